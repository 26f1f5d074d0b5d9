import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CrashBurstInfo,
  type SupervisedSpec,
  Supervisor,
  type SupervisorEvents,
} from '../../src/core/supervisor.js';
import { captureLog } from './fixtures.js';

type ExitInfo = SupervisorEvents['exit'][0];

const RESTART = { initialMs: 20, maxMs: 200, jitter: 0, stableAfterMs: 60000 };

function nodeSpec(name: string, script: string, extra: Partial<SupervisedSpec> = {}): SupervisedSpec {
  return {
    name,
    command: process.execPath,
    args: ['-e', script],
    restart: RESTART,
    stopTimeouts: { quitMs: 2000, termMs: 2000 },
    ...extra,
  };
}

/** Resolves with the first `count` payloads of an event; listen before start(), spawn is emitted synchronously. */
function collect<K extends keyof SupervisorEvents>(
  supervisor: Supervisor,
  event: K,
  count: number,
): Promise<SupervisorEvents[K][0][]> {
  const seen: SupervisorEvents[K][0][] = [];
  return new Promise((resolve) => {
    const listener = (...args: SupervisorEvents[K]) => {
      seen.push(args[0]);
      if (seen.length === count) {
        supervisor.off(event, listener as never);
        resolve(seen);
      }
    };
    supervisor.on(event, listener as never);
  });
}

async function firstLine(child: ChildProcess): Promise<string> {
  if (!child.stdout) throw new Error('child has no stdout');
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return line;
}

describe('Supervisor', () => {
  const running: Supervisor[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  function supervise(spec: SupervisedSpec, log = captureLog().log): Supervisor {
    const supervisor = new Supervisor(spec, log);
    running.push(supervisor);
    return supervisor;
  }

  it('restarts a child that exits with code 1, with growing restartInMs on each exit event', async () => {
    const supervisor = supervise(nodeSpec('crasher', "process.stderr.write('crashing\\n'); process.exit(1)"));
    const spawns = collect(supervisor, 'spawn', 3);
    const exits = collect(supervisor, 'exit', 2);
    const stderr = collect(supervisor, 'stderrLine', 1);
    supervisor.start();

    const children = await spawns;
    expect(new Set(children.map((c) => c.pid)).size).toBe(3);
    expect(await exits).toEqual([
      { code: 1, signal: null, restartInMs: 20, requested: false },
      { code: 1, signal: null, restartInMs: 40, requested: false },
    ]);
    expect(await stderr).toEqual(['crashing']);
    expect(supervisor.restarts).toBeGreaterThanOrEqual(2);
  });

  it('escalates to SIGKILL when the child ignores SIGTERM', async () => {
    const capture = captureLog();
    const script = "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)";
    const supervisor = supervise(
      nodeSpec('stubborn', script, { stopTimeouts: { quitMs: 100, termMs: 150 } }),
      capture.log,
    );
    const spawned = once(supervisor, 'spawn') as Promise<[ChildProcess]>;
    supervisor.start();
    const [child] = await spawned;
    expect(await firstLine(child)).toBe('ready');

    const exited = once(supervisor, 'exit') as Promise<[ExitInfo]>;
    await supervisor.stop();
    const [info] = await exited;
    expect(info).toEqual({ code: null, signal: 'SIGKILL', restartInMs: undefined, requested: true });
    expect(child.signalCode).toBe('SIGKILL');
    expect(capture.records().some((r) => r.msg === 'child ignored SIGTERM, sending SIGKILL')).toBe(true);
  });

  it('stops a child politely with quitInput: it exits 0 by itself, not by a signal', async () => {
    const script = [
      "process.stdin.on('data', (d) => { if (String(d).includes('q')) process.exit(0); });",
      "console.log('ready');",
    ].join(' ');
    const supervisor = supervise(nodeSpec('polite', script, { quitInput: 'q' }));
    const spawned = once(supervisor, 'spawn') as Promise<[ChildProcess]>;
    supervisor.start();
    const [child] = await spawned;
    expect(await firstLine(child)).toBe('ready');

    const exited = once(supervisor, 'exit') as Promise<[ExitInfo]>;
    await supervisor.stop();
    const [info] = await exited;
    expect(info).toEqual({ code: 0, signal: null, restartInMs: undefined, requested: true });
  });

  it('survives quit input to a child that closed its stdin (EPIPE) and still stops it', async () => {
    const script =
      "require('fs').closeSync(0); process.on('SIGTERM', () => process.exit(0)); console.log('ready'); setInterval(() => {}, 1000);";
    const supervisor = supervise(
      nodeSpec('no-stdin', script, { quitInput: 'q', stopTimeouts: { quitMs: 200, termMs: 2000 } }),
    );
    const spawned = once(supervisor, 'spawn') as Promise<[ChildProcess]>;
    supervisor.start();
    const [child] = await spawned;
    expect(await firstLine(child)).toBe('ready');
    const exited = once(supervisor, 'exit') as Promise<[ExitInfo]>;
    await supervisor.stop();
    expect((await exited)[0]).toEqual({ code: 0, signal: null, restartInMs: undefined, requested: true });
  });

  it('stops a child with SIGTERM when there is no quitInput', async () => {
    const supervisor = supervise(nodeSpec('plain', "console.log('ready'); setInterval(() => {}, 1000)"));
    const spawned = once(supervisor, 'spawn') as Promise<[ChildProcess]>;
    supervisor.start();
    const [child] = await spawned;
    expect(await firstLine(child)).toBe('ready');

    const exited = once(supervisor, 'exit') as Promise<[ExitInfo]>;
    await supervisor.stop();
    expect((await exited)[0]).toEqual({
      code: null,
      signal: 'SIGTERM',
      restartInMs: undefined,
      requested: true,
    });
    expect(supervisor.child).toBeUndefined();
  });

  it('does not restart after stop(), even when stopped during the restart wait', async () => {
    const supervisor = supervise(
      nodeSpec('crasher', 'process.exit(1)', { restart: { ...RESTART, initialMs: 50 } }),
    );
    let spawns = 0;
    supervisor.on('spawn', () => {
      spawns += 1;
    });
    const exited = once(supervisor, 'exit') as Promise<[ExitInfo]>;
    supervisor.start();
    const [info] = await exited;
    expect(info.restartInMs).toBe(50);

    await supervisor.stop();
    // Nothing to await for an absence: wait ten times the pending restart delay and check nothing spawned.
    await delay(500);
    expect(spawns).toBe(1);
    expect(supervisor.child).toBeUndefined();
  });

  it('survives a command that does not exist (ENOENT), logs it and keeps retrying', async () => {
    const capture = captureLog();
    const supervisor = supervise(
      { name: 'missing', command: '/nonexistent/ipcam-agent-test-binary', args: [], restart: RESTART },
      capture.log,
    );
    const exits = collect(supervisor, 'exit', 2);
    const spawns = collect(supervisor, 'spawn', 2);
    supervisor.start();

    const [first, second] = await exits;
    await spawns;
    expect(first?.restartInMs).toBe(20);
    expect(second?.restartInMs).toBe(40);
    expect(first?.code).not.toBe(0);
    const error = capture.records().find((r) => r.msg === 'child process error');
    expect(error).toMatchObject({ process: 'missing', err: { code: 'ENOENT' } });
  });

  it('asks an args function again at every start', async () => {
    let calls = 0;
    const supervisor = supervise({
      ...nodeSpec('reconfigured', ''),
      args: () => {
        calls += 1;
        return ['-e', `process.stderr.write('run ${calls}\\n'); process.exit(1)`];
      },
    });
    const lines = collect(supervisor, 'stderrLine', 2);
    supervisor.start();
    expect(await lines).toEqual(['run 1', 'run 2']);
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it('restartNow() kills the child and starts a new one at once', async () => {
    const supervisor = supervise(
      nodeSpec('restartable', "console.log('ready'); setInterval(() => {}, 1000)"),
    );
    const spawns = collect(supervisor, 'spawn', 2);
    const firstSpawn = once(supervisor, 'spawn') as Promise<[ChildProcess]>;
    supervisor.start();
    const [child] = await firstSpawn;
    expect(await firstLine(child)).toBe('ready');

    const exited = once(supervisor, 'exit') as Promise<[ExitInfo]>;
    supervisor.restartNow();
    expect((await exited)[0]).toEqual({ code: null, signal: 'SIGTERM', restartInMs: 20, requested: true });
    const [, second] = await spawns;
    expect(second?.pid).not.toBe(child.pid);
  });

  it('reports a burst of crashes once, ends it after a stable run, and counts it in the next report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supervisor-'));
    const healthy = join(dir, 'healthy');
    // Crashes at once until the flag file exists, then keeps running. stableAfterMs is well above a
    // node start on a loaded machine: a crash later than that would count as a new burst.
    const script = `if (!require('fs').existsSync(${JSON.stringify(healthy)})) process.exit(3); console.log('ready'); setInterval(() => {}, 1000);`;
    const supervisor = supervise(
      nodeSpec('bursty', script, { restart: { initialMs: 10, maxMs: 40, jitter: 0, stableAfterMs: 3000 } }),
    );
    const bursts: CrashBurstInfo[] = [];
    supervisor.on('crashBurst', (info) => bursts.push(info));
    const crashes = collect(supervisor, 'exit', 6);
    supervisor.start();

    expect((await crashes).every((e) => e.code === 3 && !e.requested)).toBe(true);
    expect(bursts).toEqual([{ code: 3, signal: null, restartInMs: 10, previousBurstRestarts: 0 }]);
    expect(supervisor.burstCrashes).toBeGreaterThanOrEqual(6);

    const stable = once(supervisor, 'stable') as Promise<[{ restarts: number }]>;
    await writeFile(healthy, '');
    const [{ restarts }] = await stable;
    // The child that has run stableAfterMs: the one spawned after the flag appeared.
    const child = supervisor.child;
    expect(child?.exitCode).toBeNull();
    expect(restarts).toBeGreaterThanOrEqual(6);
    expect(bursts).toHaveLength(1);
    expect(supervisor.burstCrashes).toBe(0);

    const next = once(supervisor, 'crashBurst') as Promise<[CrashBurstInfo]>;
    child?.kill('SIGKILL');
    const [report] = await next;
    expect(report).toEqual({
      code: null,
      signal: 'SIGKILL',
      restartInMs: 10,
      previousBurstRestarts: restarts,
    });
    await rm(dir, { recursive: true, force: true });
  });

  it('does not count restartNow() or stop() as crashes', async () => {
    const supervisor = supervise(nodeSpec('calm', "console.log('ready'); setInterval(() => {}, 1000)"));
    let bursts = 0;
    supervisor.on('crashBurst', () => {
      bursts += 1;
    });
    const spawns = collect(supervisor, 'spawn', 3);
    const exits = collect(supervisor, 'exit', 2);
    const first = once(supervisor, 'spawn') as Promise<[ChildProcess]>;
    supervisor.start();
    expect(await firstLine((await first)[0])).toBe('ready');
    const second = once(supervisor, 'spawn') as Promise<[ChildProcess]>;
    supervisor.restartNow();
    expect(await firstLine((await second)[0])).toBe('ready');
    supervisor.restartNow();
    await spawns;
    expect((await exits).map((e) => e.requested)).toEqual([true, true]);
    await supervisor.stop();
    expect(bursts).toBe(0);
    expect(supervisor.burstCrashes).toBe(0);
  });
});
