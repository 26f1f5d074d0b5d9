import { describe, expect, it } from 'vitest';
import { ByteRing, type RingRun } from '../../src/media/byte-ring.js';

/** A deterministic run of `length` bytes, different for every `seed`. */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('a ring of byte runs in one reused buffer', () => {
  it('gives back every run as written through wraps, growth and shrinking', () => {
    const ring = new ByteRing({ minBytes: 4096, maxBytes: 1 << 20 });
    const held: { run: RingRun; data: Buffer }[] = [];
    let seed = 1;
    let grewTo = 0;
    let wrapped = false;
    // Runs of mixed sizes kept for a varying number of steps, with a burst of large ones mid-way.
    for (let step = 0; step < 3000; step++) {
      const burst = step > 1000 && step < 1100;
      const length = burst ? 20_000 + (step % 7) * 1000 : 1 + ((step * 7919) % 1500);
      const parts = [bytes(seed, length >> 1), bytes(seed + 1, length - (length >> 1))];
      seed += 2;
      const run = ring.push(parts);
      expect(run).toBeDefined();
      if (!run) continue;
      held.push({ run, data: Buffer.concat(parts) });
      if (run.offset + run.length > ring.capacity) wrapped = true;
      grewTo = Math.max(grewTo, ring.capacity);
      while (held.length > 8 + (step % 13)) {
        ring.shift();
        held.shift();
      }
      if (step % 50 === 0) ring.shrinkIfIdle();
      for (const { run: r, data } of held) expect(ring.copy(r).equals(data)).toBe(true);
      expect(ring.usedBytes).toBe(held.reduce((sum, h) => sum + h.data.length, 0));
    }
    expect(wrapped).toBe(true);
    expect(grewTo).toBeGreaterThan(4096 * 16);
    // The burst is over: the buffer went back down.
    expect(ring.capacity).toBeLessThan(grewTo);
  });

  it('refuses a run larger than its limit, and one that does not fit beside what it holds', () => {
    const ring = new ByteRing({ minBytes: 1024, maxBytes: 8192 });
    expect(ring.push([Buffer.alloc(8193)])).toBeUndefined();
    expect(ring.push([Buffer.alloc(6000)])).toBeDefined();
    expect(ring.push([Buffer.alloc(3000)])).toBeUndefined();
    ring.shift();
    expect(ring.push([Buffer.alloc(3000)])).toBeDefined();
    expect(ring.usedBytes).toBe(3000);
  });

  it('frees a buffer it gives up at once, even one that reached the old generation', async () => {
    const ring = new ByteRing({ minBytes: 64 * 1024, maxBytes: 64 << 20 });
    for (let i = 0; i < 16; i++) ring.push([Buffer.alloc(1 << 20)]);
    // Enough young garbage that the ring's buffer survives two young collections and is promoted. The
    // garbage escapes to `sink`, or the optimiser would not allocate it at all.
    let sink: unknown;
    const churn = () => {
      for (let i = 0; i < 2_000_000; i++) sink = [{ i }];
      return sink;
    };
    churn();
    await new Promise((resolve) => setImmediate(resolve));
    const held = process.memoryUsage().arrayBuffers;
    ring.clear();
    // Node 20 frees it at the next young collection, Node 22 and later at once.
    churn();
    await new Promise((resolve) => setImmediate(resolve));
    expect(held - process.memoryUsage().arrayBuffers).toBeGreaterThan(16 << 20);
  });

  it('hands out copies: a later write does not change what a reader holds', () => {
    const ring = new ByteRing({ minBytes: 1024, maxBytes: 1024 });
    const run = ring.push([Buffer.alloc(600, 1)]) as RingRun;
    const copy = ring.copy(run);
    ring.shift();
    ring.push([Buffer.alloc(1000, 2)]);
    expect(copy.every((b) => b === 1)).toBe(true);
  });
});
