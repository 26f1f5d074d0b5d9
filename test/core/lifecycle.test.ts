import { describe, expect, it } from 'vitest';
import { AgentError } from '../../src/core/errors.js';
import { Lifecycle, type Module } from '../../src/core/lifecycle.js';
import { captureLog } from './fixtures.js';

/** A module that records its calls; each behaviour can be replaced. */
function module(
  name: string,
  calls: string[],
  overrides: Partial<Pick<Module, 'start' | 'stop'>> = {},
): Module {
  return {
    name,
    start:
      overrides.start ??
      (async () => {
        calls.push(`start ${name}`);
      }),
    stop:
      overrides.stop ??
      (async () => {
        calls.push(`stop ${name}`);
      }),
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('Lifecycle', () => {
  it('starts modules in declared order and stops them in reverse', async () => {
    const calls: string[] = [];
    const { log } = captureLog();
    const lifecycle = new Lifecycle([module('a', calls), module('b', calls), module('c', calls)], log);

    await lifecycle.start();
    expect(calls).toEqual(['start a', 'start b', 'start c']);
    expect(lifecycle.startedModules).toEqual(['a', 'b', 'c']);

    await lifecycle.stop();
    expect(calls.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
    expect(lifecycle.startedModules).toEqual([]);
  });

  it('stops the already started modules in reverse and rejects when a module fails to start', async () => {
    const calls: string[] = [];
    const capture = captureLog();
    const failing = module('c', calls, {
      start: async () => {
        calls.push('start c');
        throw new Error('camera sensor missing');
      },
    });
    const lifecycle = new Lifecycle(
      [module('a', calls), module('b', calls), failing, module('d', calls)],
      capture.log,
    );

    const err = await lifecycle.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('internal');
    expect((err as AgentError).message).toContain('module c failed to start: camera sensor missing');
    expect(calls).toEqual(['start a', 'start b', 'start c', 'stop b', 'stop a']);
    expect(lifecycle.startedModules).toEqual([]);
    const record = capture.records().find((r) => r.msg === 'module failed to start');
    expect(record).toMatchObject({ module: 'c', level: 50 });
  });

  it('cancels start-up when stop() is called while a module is starting', async () => {
    const calls: string[] = [];
    const { log } = captureLog();
    const entered = deferred();
    let seenSignal: AbortSignal | undefined;
    const slow = module('b', calls, {
      start: (signal) => {
        seenSignal = signal;
        calls.push('start b');
        entered.resolve();
        return new Promise<void>((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('start-up interrupted')), { once: true });
        });
      },
    });
    const lifecycle = new Lifecycle([module('a', calls), slow, module('c', calls)], log);

    const starting = lifecycle.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await entered.promise;
    expect(seenSignal?.aborted).toBe(false);
    await lifecycle.stop();
    const err = await starting;

    expect(seenSignal?.aborted).toBe(true);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('aborted');
    // b never finished starting, so only a is stopped; c is never started.
    expect(calls).toEqual(['start a', 'start b', 'stop a']);
    expect(lifecycle.startedModules).toEqual([]);
  });

  it('stops a module whose start resolves only after stop() was asked for', async () => {
    const calls: string[] = [];
    const capture = captureLog();
    const late = module('late', calls, {
      start: (signal) =>
        new Promise<void>((resolve) => {
          calls.push('start late');
          signal.addEventListener('abort', () => resolve(), { once: true });
        }),
    });
    const lifecycle = new Lifecycle([late, module('next', calls)], capture.log);
    const started = lifecycle.start();
    await lifecycle.stop();
    await expect(started).rejects.toMatchObject({ code: 'aborted' });
    expect(calls).toEqual(['start late', 'stop late']);
    expect(lifecycle.startedModules).toEqual([]);
  });

  it('rejects with aborted without starting anything when stop() came first', async () => {
    const calls: string[] = [];
    const { log } = captureLog();
    const lifecycle = new Lifecycle([module('a', calls)], log);
    await lifecycle.stop();
    await expect(lifecycle.start()).rejects.toMatchObject({ code: 'aborted' });
    expect(calls).toEqual([]);
  });

  it('does not let a module whose stop() never resolves block the others', async () => {
    const calls: string[] = [];
    const capture = captureLog();
    const stuck = module('b', calls, {
      stop: () => {
        calls.push('stop b');
        return new Promise<void>(() => {});
      },
    });
    const lifecycle = new Lifecycle([module('a', calls), stuck, module('c', calls)], capture.log, {
      stopTimeoutMs: 30,
    });
    await lifecycle.start();

    await lifecycle.stop();
    expect(calls.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
    const warning = capture.records().find((r) => r.msg === 'module did not stop in time');
    expect(warning).toMatchObject({ module: 'b', level: 40 });
  });

  it('logs a module whose stop() rejects and still stops the others', async () => {
    const calls: string[] = [];
    const capture = captureLog();
    const broken = module('b', calls, {
      stop: async () => {
        calls.push('stop b');
        throw new Error('device busy');
      },
    });
    const lifecycle = new Lifecycle([module('a', calls), broken, module('c', calls)], capture.log);
    await lifecycle.start();

    await lifecycle.stop();
    expect(calls.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
    const record = capture.records().find((r) => r.msg === 'module failed to stop');
    expect(record).toMatchObject({ module: 'b', err: { message: 'device busy' } });
  });

  it('is idempotent: concurrent and repeated stop() calls stop each module once', async () => {
    const calls: string[] = [];
    const { log } = captureLog();
    const lifecycle = new Lifecycle([module('a', calls), module('b', calls)], log);
    await lifecycle.start();

    const first = lifecycle.stop();
    const second = lifecycle.stop();
    expect(second).toBe(first);
    await Promise.all([first, second]);
    await lifecycle.stop();
    expect(calls).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });
});
