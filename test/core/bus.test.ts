import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/core/bus.js';
import { captureLog } from './fixtures.js';

interface Events {
  motion: { score: number };
  tick: number;
}

describe('EventBus', () => {
  it('delivers a typed payload to every listener of that event only', () => {
    const bus = new EventBus<Events>(captureLog().log);
    const owner = {};
    const motions: { score: number }[] = [];
    const ticks: number[] = [];
    bus.on(owner, 'motion', (payload) => {
      motions.push(payload);
    });
    bus.on(owner, 'motion', (payload) => {
      motions.push({ score: payload.score * 10 });
    });
    bus.on(owner, 'tick', (n) => {
      ticks.push(n);
    });

    bus.emit('motion', { score: 7 });
    expect(motions).toEqual([{ score: 7 }, { score: 70 }]);
    expect(ticks).toEqual([]);
    bus.emit('tick', 3);
    expect(ticks).toEqual([3]);
    expect(bus.listenerCount('motion')).toBe(2);
  });

  it('logs a listener that throws and still calls the listeners after it', () => {
    const capture = captureLog();
    const bus = new EventBus<Events>(capture.log);
    const owner = {};
    const seen: number[] = [];
    bus.on(owner, 'tick', () => {
      throw new Error('listener exploded');
    });
    bus.on(owner, 'tick', (n) => {
      seen.push(n);
    });

    expect(() => bus.emit('tick', 1)).not.toThrow();
    expect(seen).toEqual([1]);
    const record = capture.records().find((r) => r.msg === 'bus listener failed');
    expect(record).toMatchObject({ level: 50, event: 'tick', err: { message: 'listener exploded' } });
  });

  it('logs an async listener that rejects and still calls the listeners after it', async () => {
    const capture = captureLog();
    const bus = new EventBus<Events>(capture.log);
    const owner = {};
    const seen: number[] = [];
    let rejectIt: (err: Error) => void = () => {};
    bus.on(
      owner,
      'tick',
      () =>
        new Promise<void>((_resolve, reject) => {
          rejectIt = reject;
        }),
    );
    bus.on(owner, 'tick', (n) => {
      seen.push(n);
    });

    bus.emit('tick', 2);
    expect(seen).toEqual([2]);
    const logged = capture.waitFor((r) => r.msg === 'bus listener failed');
    rejectIt(new Error('async listener failed'));
    expect(await logged).toMatchObject({
      level: 50,
      event: 'tick',
      err: { message: 'async listener failed' },
    });
  });

  it('removeListeners(owner) removes only that owner’s listeners, on every event', () => {
    const bus = new EventBus<Events>(captureLog().log);
    const leaving = {};
    const staying = {};
    const calls: string[] = [];
    bus.on(leaving, 'motion', () => {
      calls.push('leaving motion');
    });
    bus.on(leaving, 'tick', () => {
      calls.push('leaving tick');
    });
    bus.on(staying, 'motion', () => {
      calls.push('staying motion');
    });
    bus.on(staying, 'tick', () => {
      calls.push('staying tick');
    });

    bus.removeListeners(leaving);
    expect(bus.listenerCount('motion')).toBe(1);
    expect(bus.listenerCount('tick')).toBe(1);
    bus.emit('motion', { score: 1 });
    bus.emit('tick', 1);
    expect(calls).toEqual(['staying motion', 'staying tick']);
  });
});
