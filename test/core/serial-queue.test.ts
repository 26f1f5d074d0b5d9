import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../src/core/serial-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('SerialQueue', () => {
  it('runs tasks one at a time in the order they were queued', async () => {
    const queue = new SerialQueue();
    const order: string[] = [];
    const gate = deferred();
    const first = queue.run(async () => {
      order.push('first started');
      await gate.promise;
      order.push('first done');
    });
    const second = queue.run(() => {
      order.push('second');
    });
    await Promise.resolve();
    expect(order).toEqual(['first started']);
    expect(queue.pending).toBe(2);
    gate.resolve();
    await Promise.all([first, second]);
    expect(order).toEqual(['first started', 'first done', 'second']);
    expect(queue.pending).toBe(0);
  });

  it('a failed task rejects its own caller and the next task still runs', async () => {
    const queue = new SerialQueue();
    const failed = queue.run(async () => {
      throw new Error('ENOSPC');
    });
    const next = queue.run(async () => 'applied');
    await expect(failed).rejects.toThrow('ENOSPC');
    await expect(next).resolves.toBe('applied');
  });

  it('a pushed task that fails goes to onError and the queue carries on', async () => {
    const errors: unknown[] = [];
    const queue = new SerialQueue({ onError: (err) => errors.push(err) });
    queue.push(() => {
      throw new Error('boom');
    });
    const after = queue.run(() => 42);
    await expect(after).resolves.toBe(42);
    await queue.idle();
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
  });

  it('refuses a task beyond maxPending with queue_full, and takes tasks again once there is room', async () => {
    const queue = new SerialQueue({ maxPending: 2 });
    const gate = deferred();
    const a = queue.run(() => gate.promise);
    const b = queue.run(() => 'b');
    await expect(queue.run(() => 'c')).rejects.toMatchObject({ code: 'queue_full' });
    gate.resolve();
    await Promise.all([a, b]);
    await expect(queue.run(() => 'd')).resolves.toBe('d');
  });
});
