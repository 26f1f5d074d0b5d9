import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { SecretValues } from '../../src/core/redact.js';
import { Supervisor } from '../../src/core/supervisor.js';
import { SilenceWatch } from '../../src/media/silence-watch.js';

const log = createLogger({ level: 'fatal', secrets: new SecretValues() });
const restart = { initialMs: 20, maxMs: 100, stableAfterMs: 60_000, jitter: 0 };

/** A supervised program and a watch on its stdout, spawn times (monotonic ms) and bursts counted. */
function watched(script: string, silenceMs: number) {
  const supervisor = new Supervisor(
    {
      name: 'writer',
      command: process.execPath,
      args: ['-e', script],
      restart,
      stopTimeouts: { quitMs: 0, termMs: 1000 },
    },
    log,
  );
  let bursts = 0;
  const watch = new SilenceWatch(
    supervisor,
    log,
    { silenceMs, firstDataMs: silenceMs, killAfterMs: 1000 },
    () => {
      bursts += 1;
    },
  );
  const spawns: number[] = [];
  supervisor.on('spawn', (child) => {
    spawns.push(performance.now());
    child.stdout?.on('data', () => watch.heard('stdout'));
    watch.spawned(['stdout']);
  });
  supervisor.start();
  watch.start();
  const stop = async () => {
    watch.stop();
    await supervisor.stop();
  };
  return { spawns, bursts: () => bursts, stop };
}

async function until(test: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('silence watch', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((s) => s()));
  });

  it('waits twice as long before each silent restart in a row, and reports the run once', async () => {
    const w = watched('setInterval(()=>{},1000)', 200);
    stops.push(w.stop);
    await until(() => w.spawns.length >= 4, 15_000);
    const runs = w.spawns.slice(1).map((t, i) => t - (w.spawns[i] ?? 0));
    // Each run lasted at least its doubled silence: 200, 400, 800 ms (a loaded machine only adds).
    runs.slice(0, 3).forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(200 * 2 ** i);
    });
    expect(w.bursts()).toBe(1);
  }, 20_000);

  it('counts from when the agent runs again after it stalled, not from before', async () => {
    const w = watched("setInterval(()=>process.stdout.write('x'),50)", 500);
    stops.push(w.stop);
    await until(() => w.spawns.length === 1, 5000);
    await new Promise((r) => setTimeout(r, 300));
    // The event loop blocked for 2 s (a camera swapping): the writer's bytes wait in the pipe.
    const end = Date.now() + 2000;
    while (Date.now() < end) {
      // busy
    }
    // Nothing to await for an absence: two of the watch's silences go by after the stall.
    await new Promise((r) => setTimeout(r, 1000));
    expect(w.spawns).toHaveLength(1);
    expect(w.bursts()).toBe(0);
  });
});
