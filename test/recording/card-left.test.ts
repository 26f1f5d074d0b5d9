import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { landedOnCard, removeOffCard } from '../../src/recording/card.js';
import { SegmentWriter } from '../../src/recording/segment-writer.js';

// The card pulled out between the writer's check and its mkdir/open (the race a CI run of
// card-faults.test.ts caught: a `<serial>` folder on the root file system under the empty mount point).
// Here the "card" is a plain folder, so it is never a mount point: the check before says yes, as it did
// a moment before the card left, and what the write makes lands on the parent's file system.
describe('a segment opened as the card leaves', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function openOnce(requireMount: boolean) {
    dir = await mkdtemp(join(tmpdir(), 'card-left-'));
    const root = join(dir, 'card');
    await mkdir(root);
    const deviceDir = join(root, 'SERIAL');
    const errors: unknown[] = [];
    const writer = new SegmentWriter({
      deviceDir,
      syncIntervalMs: 0,
      mayWrite: async () => true,
      keptOnCard: async (dev, path) => {
        if (await landedOnCard(root, requireMount, dev)) return true;
        await removeOffCard(deviceDir, path);
        return false;
      },
      onClosed: () => undefined,
      onError: (err) => errors.push(err),
    });
    const start = Date.parse('2026-12-07T08:00:00Z');
    writer.handle({
      type: 'open',
      start,
      head: Buffer.from('head'),
      meta: { stream: 'main', kind: 'continuous', codec: 'avc1.42e01e', start },
    });
    await writer.idle();
    return { root, errors, writer };
  }

  it('gives the segment up as the card gone (ENODEV) and leaves nothing under the mount point', async () => {
    const { root, errors, writer } = await openOnce(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ENODEV' });
    expect(writer.current).toBeUndefined();
    expect(await readdir(root)).toEqual([]);
  });

  it('where no mount is required (the simulator, a folder), the same write stays', async () => {
    const { root, errors, writer } = await openOnce(false);
    expect(errors).toEqual([]);
    expect(writer.current?.path).toMatch(/-open\.mp4$/);
    expect(await readdir(root)).toEqual(['SERIAL']);
  });

  it('removes only empty folders: recordings already there (a card mounted again) stay', async () => {
    dir = await mkdtemp(join(tmpdir(), 'card-left-'));
    const deviceDir = join(dir, 'card', 'SERIAL');
    const hour = join(deviceDir, '2026-12-07', '08');
    await mkdir(hour, { recursive: true });
    await writeFile(join(hour, 'kept.mp4'), 'recording');
    await writeFile(join(hour, 'new-open.mp4'), '');
    await removeOffCard(deviceDir, join(hour, 'new-open.mp4'));
    expect(await readdir(hour)).toEqual(['kept.mp4']);
  });
});
