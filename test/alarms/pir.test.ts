import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { PirAlarmConfig } from '../../src/alarms/config.js';
import { Pir } from '../../src/hardware/pir.js';
import { simBoard } from '../hardware/sim-gpio.js';
import { useBroker } from '../helpers/broker-fixture.js';
import { alarmRig, hubWithPicture, phases } from './rig.js';

// The PIR on its simulated sysfs line, read by the real SysfsGpio and debounced by the real Pir; the
// alarms go through a real EventPublisher to a real Mosquitto. Frames are synthetic, 5 per second.
describe('the PIR in motion alarms (alarms.pir.mode)', () => {
  const fixture = useBroker();
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function pirOnBoard() {
    const board = await simBoard(10);
    const pir = new Pir(await board.open(22, 'in', false), board.clock, { debounceMs: 50 });
    pir.start();
    cleanup.push(async () => {
      pir.stop();
      await rm(board.chip.root, { recursive: true, force: true });
    });
    /** The sensor's output line; the debounce settles within the 100 ms the board's clock moves. */
    const line = (level: 0 | 1) => {
      board.chip.set(22, level);
      board.clock.advance(100);
    };
    return { pir, line };
  }

  async function rig(mode: PirAlarmConfig['mode'], options: Parameters<typeof alarmRig>[1] = {}) {
    const { pir, line } = await pirOnBoard();
    const r = await alarmRig(fixture, { pir, pirConfig: { mode, confirmWindowMs: 3000 }, ...options });
    cleanup.push(() => r.close());
    r.still(20); // the room is learnt; nothing moves
    return { ...r, line };
  }

  it('trigger: a PIR edge starts an alarm with its picture though the video sees nothing', async () => {
    const r = await rig('trigger', { hub: await hubWithPicture(), settings: { alarmNotifications: true } });
    const edgeAt = r.now();
    r.line(1);
    const start = await r.next('the PIR alarm', (e) => e.phase === 'start');
    expect(start).toMatchObject({ source: 'pir', motionTs: edgeAt, box: { w: 0, h: 0 }, picture: true });
    const picture = await r.next('its picture', (e) => e.phase === 'snapshot');
    expect(picture).toMatchObject({ alarmId: start.alarmId, snapshot: { width: 640, height: 360 } });
    r.still(10); // the sensor stays active for 2 s: one alarm, kept going
    r.line(0);
    const clearAt = r.now();
    r.still(30); // quiet for 5 s after the sensor dropped: the alarm ends
    const end = await r.next('its end', (e) => e.phase === 'end');
    expect(end).toMatchObject({ source: 'pir', alarmId: start.alarmId, durationMs: clearAt - edgeAt });

    // Video motion still alarms on its own.
    r.crossing();
    r.still(30);
    await r.next('a video alarm', (e) => e.phase === 'end' && e.source === 'video');
    expect(phases(r.seen())).toEqual(['start:pir', 'end:pir', 'start:video', 'end:video']);
  });

  it('confirm: video motion alarms only when the PIR saw motion too', async () => {
    const r = await rig('confirm');
    // 1. Video alone: held back, and dropped when it ends.
    r.crossing();
    r.still(30);
    await r.logs.waitFor((l) => l.msg === 'video motion without the PIR: no alarm');

    // 2. The PIR first (a pulse alone raises nothing), then video 1.4 s later, inside the 3 s window.
    r.line(1);
    r.still(2);
    r.line(0);
    r.still(5);
    const second = r.now();
    r.crossing();
    r.still(30);
    await r.next('the confirmed alarm', (e) => e.phase === 'end');

    // 3. Video first, the PIR joins while it goes on: the alarm is raised when the PIR fires.
    const third = r.now();
    r.crossing();
    const pirAt = r.now();
    r.line(1);
    r.line(0);
    r.still(30);
    await r.next('the alarm the PIR confirmed later', (e) => e.phase === 'end' && e.motionTs > third);

    // Events arrive in the order raised: nothing came from the first crossing or the lone pulse.
    const seen = r.seen();
    expect(phases(seen)).toEqual(['start:video', 'end:video', 'start:video', 'end:video']);
    expect(seen[0]?.motionTs).toBeGreaterThanOrEqual(second);
    expect(seen[2]?.motionTs).toBeGreaterThanOrEqual(third);
    expect(seen[2]?.motionTs).toBeLessThan(pirAt);
    expect(seen[2]?.box.w).toBeGreaterThan(0);
  });

  it('off: the PIR is ignored, and video alarms need nothing from it', async () => {
    const r = await rig('off');
    r.line(1);
    r.still(10);
    r.line(0);
    r.still(30);
    const crossingAt = r.now();
    r.crossing();
    r.still(30);
    await r.next('the video alarm', (e) => e.phase === 'end');
    const seen = r.seen();
    expect(phases(seen)).toEqual(['start:video', 'end:video']);
    expect(seen[0]?.motionTs).toBeGreaterThanOrEqual(crossingAt);
  });

  it('confirm on a board without a PIR: says so, and video alone raises alarms', async () => {
    const r = await alarmRig(fixture, { pirConfig: { mode: 'confirm', confirmWindowMs: 3000 } });
    cleanup.push(() => r.close());
    await r.logs.waitFor((l) => l.msg === 'alarms.pir is set but the board has no PIR');
    r.still(20);
    r.crossing();
    r.still(30);
    await r.next('the video alarm', (e) => e.phase === 'end');
    expect(phases(r.seen())).toEqual(['start:video', 'end:video']);
  });
});
