import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/cloud/outbox.js';
import { useTempDir } from '../core/fixtures.js';

async function opened(
  dir: string,
  maxEvents: number,
  limits: { maxBytes?: number; maxEventBytes?: number } = {},
): Promise<Outbox> {
  const outbox = new Outbox(dir, {
    maxEvents,
    maxBytes: limits.maxBytes ?? 1024 * 1024,
    maxEventBytes: limits.maxEventBytes ?? 64 * 1024,
  });
  await outbox.open();
  return outbox;
}

/** Reads the queue front to back through the public interface, emptying it. */
async function drain(outbox: Outbox): Promise<{ seq: number; type: string; n: unknown }[]> {
  const out: { seq: number; type: string; n: unknown }[] = [];
  for (let event = await outbox.peek(); event; event = await outbox.peek()) {
    out.push({ seq: event.seq, type: event.type, n: event.body.n });
    await outbox.remove(event.seq);
  }
  return out;
}

describe('Outbox', () => {
  const tempDir = useTempDir('ipcam-outbox');

  it('appends with increasing sequence numbers and hands each one to the body builder', async () => {
    const outbox = await opened(join(await tempDir(), 'outbox'), 10);
    const first = await outbox.append('motion', (seq) => ({ n: 0, seq }));
    const second = await outbox.append('button', (seq) => ({ n: 1, seq }));
    expect(first).toEqual({ seq: 1, type: 'motion', body: { n: 0, seq: 1 } });
    expect(second).toEqual({ seq: 2, type: 'button', body: { n: 1, seq: 2 } });
    expect(outbox.size).toBe(2);
    expect(outbox.dropped).toBeUndefined();
  });

  it('keeps order, and sequence numbers continue after reopening, even once emptied', async () => {
    const dir = join(await tempDir(), 'outbox');
    const before = await opened(dir, 10);
    for (let n = 0; n < 3; n += 1) await before.append('motion', () => ({ n }));

    const after = await opened(dir, 10);
    expect(after.size).toBe(3);
    expect((await after.append('motion', () => ({ n: 3 }))).seq).toBe(4);
    expect(await drain(after)).toEqual([
      { seq: 1, type: 'motion', n: 0 },
      { seq: 2, type: 'motion', n: 1 },
      { seq: 3, type: 'motion', n: 2 },
      { seq: 4, type: 'motion', n: 3 },
    ]);
    expect(after.size).toBe(0);

    const third = await opened(dir, 10);
    expect(third.size).toBe(0);
    expect((await third.append('motion', () => ({ n: 4 }))).seq).toBe(5);
  });

  it('a damaged counter is set aside, and sequence numbers still never go back', async () => {
    const dir = join(await tempDir(), 'outbox');
    const before = await opened(dir, 10);
    for (let n = 0; n < 3; n += 1) await before.append('motion', () => ({ n }));
    await drain(before);
    await writeFile(join(dir, 'counter.json'), '{"lastSeq":3');

    const after = await opened(dir, 10);
    expect((await readdir(dir)).filter((name) => name.endsWith('.bad'))).toEqual(['counter.json.bad']);
    expect((await after.append('motion', () => ({ n: 3 }))).seq).toBeGreaterThan(3);
  });

  it('orders by number, not by name, past ten events', async () => {
    const dir = join(await tempDir(), 'outbox');
    const outbox = await opened(dir, 100);
    for (let n = 0; n < 12; n += 1) await outbox.append('tick', () => ({ n }));
    const reopened = await opened(dir, 100);
    expect((await drain(reopened)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('drops the oldest past maxEvents and reports the gap, also after reopening', async () => {
    const dir = join(await tempDir(), 'outbox');
    const outbox = await opened(dir, 3);
    for (let n = 0; n < 5; n += 1) await outbox.append('motion', () => ({ n }));

    expect(outbox.size).toBe(3);
    expect(outbox.dropped).toEqual({ count: 2, firstSeq: 1, lastSeq: 2 });
    const files = (await readdir(dir))
      .filter((name) => name.endsWith('.json') && name !== 'counter.json')
      .sort();
    expect(files).toEqual(['0000000000000003.json', '0000000000000004.json', '0000000000000005.json']);

    const reopened = await opened(dir, 3);
    expect(reopened.dropped).toEqual({ count: 2, firstSeq: 1, lastSeq: 2 });
    await reopened.append('motion', () => ({ n: 5 }));
    expect(reopened.dropped).toEqual({ count: 3, firstSeq: 1, lastSeq: 3 });
    expect((await drain(reopened)).map((e) => e.n)).toEqual([3, 4, 5]);
  });

  it('clearDropped() forgets the gap durably', async () => {
    const dir = join(await tempDir(), 'outbox');
    const outbox = await opened(dir, 1);
    await outbox.append('motion', () => ({ n: 0 }));
    await outbox.append('motion', () => ({ n: 1 }));
    expect(outbox.dropped).toEqual({ count: 1, firstSeq: 1, lastSeq: 1 });

    await outbox.clearDropped();
    expect(outbox.dropped).toBeUndefined();
    expect((await opened(dir, 1)).dropped).toBeUndefined();
  });

  it('gives events appended at the same time distinct, ordered sequence numbers and keeps all of them', async () => {
    const dir = await tempDir();
    const outbox = await opened(dir, 100);
    const events = await Promise.all(
      Array.from({ length: 20 }, (_, n) => outbox.append('motion', () => ({ n }))),
    );
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(outbox.size).toBe(20);
    expect((await drain(outbox)).map((e) => e.n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('drops the oldest past maxBytes as well as past maxEvents', async () => {
    const dir = join(await tempDir(), 'outbox');
    const outbox = await opened(dir, 1000, { maxBytes: 5000 });
    const pad = 'x'.repeat(900);
    for (let n = 0; n < 10; n += 1) await outbox.append('motion', () => ({ n, pad }));
    expect(outbox.bytes).toBeLessThanOrEqual(5000);
    expect(outbox.size).toBeLessThan(10);
    expect(outbox.dropped?.firstSeq).toBe(1);
    const kept = (await drain(outbox)).map((e) => e.n);
    expect(kept.at(-1)).toBe(9);
    expect(kept.length + (outbox.dropped?.count ?? 0)).toBe(10);
  });

  it('refuses a single event over maxEventBytes when it is raised, and takes no number for it', async () => {
    const dir = join(await tempDir(), 'outbox');
    const outbox = await opened(dir, 10, { maxEventBytes: 2048 });
    await expect(outbox.append('motion', () => ({ pad: 'x'.repeat(4096) }))).rejects.toMatchObject({
      code: 'payload_too_large',
    });
    expect(outbox.size).toBe(0);
    expect((await outbox.append('motion', () => ({ n: 1 }))).seq).toBe(1);
  });

  it('parks an event out of the way of later ones, keeps it across reopening, and counts it to the bounds', async () => {
    const dir = join(await tempDir(), 'outbox');
    const outbox = await opened(dir, 3);
    for (let n = 0; n < 3; n += 1) await outbox.append('motion', () => ({ n }));
    await outbox.park(1);
    expect(outbox.size).toBe(2);
    expect(outbox.parkedCount).toBe(1);
    expect((await outbox.peek())?.seq).toBe(2);

    const reopened = await opened(dir, 3);
    expect(reopened.parkedSeqs()).toEqual([1]);
    expect((await reopened.readParked(1))?.body.n).toBe(0);
    // Full: the parked event is the oldest, so it is the one dropped.
    await reopened.append('motion', () => ({ n: 3 }));
    expect(reopened.parkedCount).toBe(0);
    expect(reopened.dropped).toEqual({ count: 1, firstSeq: 1, lastSeq: 1 });
    expect((await drain(reopened)).map((e) => e.n)).toEqual([1, 2, 3]);
  });

  it('sets aside an unreadable event file and goes on with the next', async () => {
    const dir = join(await tempDir(), 'outbox');
    const outbox = await opened(dir, 10);
    for (let n = 0; n < 2; n += 1) await outbox.append('motion', () => ({ n }));
    await writeFile(join(dir, '0000000000000001.json'), '{"seq":1,"ty');
    const reopened = await opened(dir, 10);
    expect((await drain(reopened)).map((e) => e.n)).toEqual([1]);
    expect(await readdir(dir)).toContain('0000000000000001.json.corrupt');
  });
});
