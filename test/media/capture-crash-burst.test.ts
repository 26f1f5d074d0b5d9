import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureFfmpegPid, startSim } from '../cli/sim-fixture.js';
import { useBroker } from '../helpers/broker-fixture.js';
import type { DaemonProcess } from '../helpers/daemon.js';

const KILLS = 5;

/** The capture ffmpeg killed again and again on a live simulator: backoff, and one error per burst. */
describe('capture ffmpeg killed repeatedly', () => {
  const fixture = useBroker();
  let sim: DaemonProcess;
  let serial: string;
  const errors = () =>
    fixture.observer.seen
      .filter((m) => m.topic === `cam/v1/${serial}/evt/error`)
      .map((m) => m.json<Record<string, unknown>>());
  const captureRecords = (msg: string) =>
    sim.stdout.records().filter((r) => r.msg === msg && r.process === 'ffmpeg-capture');

  /** Resolves with the pid of the `n`th capture ffmpeg (1-based), once it runs; checked in /proc. */
  async function nthCapture(n: number): Promise<number> {
    let seen = 0;
    const line = await sim.stdout.waitFor((l) => {
      if (!l.includes('"msg":"child process running"') || !l.includes('"process":"ffmpeg-capture"'))
        return false;
      seen += 1;
      return seen === n;
    }, `capture ffmpeg #${n}`);
    const pid = (JSON.parse(line) as { pid: number }).pid;
    expect(await captureFfmpegPid(sim.child.pid ?? 0)).toBe(pid);
    return pid;
  }

  beforeAll(async () => {
    ({ sim } = await startSim({
      brokerPort: fixture.broker.port,
      // debug: the supervisor logs each child's pid; a short stable time keeps the suite short.
      config: {
        log: { level: 'debug' },
        media: { restart: { initialMs: 200, maxMs: 5000, stableAfterMs: 3000 } },
      },
    }));
    serial = await sim.banner('device id');
    await fixture.observer.waitFor(
      (m) => m.topic === `cam/v1/${serial}/status` && m.json().state === 'online',
      'online',
    );
  }, 60_000);
  afterAll(async () => {
    await sim.kill();
  });

  it('backs off, raises one capture_exited for the burst, and counts the burst in the next one', async () => {
    for (let n = 1; n <= KILLS; n += 1) {
      const pid = await nthCapture(n);
      process.kill(pid, 'SIGKILL');
    }
    // The burst ends once the sixth ffmpeg has run stableAfterMs; by then every report of the burst
    // would have arrived (each is raised the moment ffmpeg exits).
    await nthCapture(KILLS + 1);
    const stable = await sim.waitForLog('child process stable again', 20_000);
    expect(JSON.parse(stable)).toMatchObject({ process: 'ffmpeg-capture', restarts: KILLS });

    const exits = captureRecords('child process exited');
    expect(exits.map((r) => r.signal)).toEqual(Array(KILLS).fill('SIGKILL'));
    // Exponential backoff below maxMs (jitter takes at most 30 % off a doubling ceiling): each wait longer.
    const waits = exits.map((r) => r.restartInMs as number);
    for (let i = 1; i < waits.length; i += 1) expect(waits[i]).toBeGreaterThan(waits[i - 1] as number);
    console.log(`restart waits after ${KILLS} kills: ${waits.join(', ')} ms`);

    expect(errors()).toEqual([
      expect.objectContaining({ code: 'capture_exited', signal: 'SIGKILL', previousBurstRestarts: 0 }),
    ]);

    // A new burst: reported again, with the size of the one before.
    const next = fixture.observer.next((m) => m.topic === `cam/v1/${serial}/evt/error`, 'second evt/error');
    process.kill(await nthCapture(KILLS + 1), 'SIGKILL');
    expect((await next).json()).toMatchObject({
      code: 'capture_exited',
      signal: 'SIGKILL',
      previousBurstRestarts: KILLS,
    });
    expect(errors()).toHaveLength(2);
  });
});
