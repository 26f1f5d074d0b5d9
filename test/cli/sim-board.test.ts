import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { SMALL_STREAMS } from '../helpers/media.js';
import { ffmpeg } from '../helpers/media-fixtures.js';

interface Board {
  led: number;
  irFilter: number;
  irLeds: number;
}

/** The simulated board as the console drives it: the PIR raises alarms, night mode moves the IR-cut. */
describe('the simulator’s board through its console', () => {
  const fixture = useBroker();
  let sim: DaemonProcess;
  let serial: string;
  let consoleUrl: string;
  const topic = (rest: string) => `cam/v1/${serial}/${rest}`;
  const board = async (query = ''): Promise<Board> =>
    (await (
      await fetch(`${consoleUrl}api/hardware${query}`, { method: query ? 'POST' : 'GET' })
    ).json()) as Board;

  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sim-board-'));
    // A still picture: every alarm in this suite comes from the PIR.
    const still = join(dataDir, 'still.mp4');
    await ffmpeg([
      ...[
        '-f',
        'lavfi',
        '-i',
        'smptehdbars=size=640x360:rate=15',
        '-f',
        'lavfi',
        '-i',
        'anullsrc=r=16000:cl=mono',
      ],
      ...['-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', still],
    ]);
    await writeFile(
      join(dataDir, 'state.json'),
      JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
    );
    sim = new DaemonProcess([
      'sim',
      ...['--data-dir', dataDir, '--broker-port', String(fixture.broker.port)],
      ...['--console-port', '0', '--rtsp-port', '0', '--softap-port', '0', '--video', still],
    ]);
    serial = await sim.banner('device id');
    consoleUrl = await sim.banner('console');
    await fixture.observer.waitFor(
      (m) => m.topic === topic('status') && m.json().state === 'online',
      'online',
    );
  }, 60_000);

  afterAll(async () => {
    await sim?.kill();
  });

  it('night mode on and off moves the IR-cut filter and the IR LEDs', async () => {
    // A daylight picture, auto: the filter is in, the LEDs off.
    expect(await board()).toMatchObject({ led: 1, irFilter: 1, irLeds: 0 });
    const setNight = async (version: number, nightMode: string) => {
      const reported = fixture.observer.next(
        (m) => m.topic === topic('state/reported') && m.json().version === version,
        `reported ${version}`,
      );
      await fixture.observer.client.publishAsync(
        topic('state/desired'),
        JSON.stringify({ version, state: { nightMode } }),
        { qos: 1, retain: true },
      );
      await reported;
    };
    await setNight(1, 'on');
    await vi.waitFor(async () => expect(await board()).toMatchObject({ irFilter: 0, irLeds: 1 }));
    await setNight(2, 'off');
    await vi.waitFor(async () => expect(await board()).toMatchObject({ irFilter: 1, irLeds: 0 }));
  });

  it('someone in front of the PIR raises a motion alarm from the PIR', async () => {
    const alarm = fixture.observer.next(
      (m) => m.topic === topic('evt/motion') && m.json().phase === 'start' && m.json().source === 'pir',
      'PIR alarm',
      20_000,
    );
    // The picture needs the main stream's first keyframe: the snapshot command says when it is there.
    await vi.waitFor(
      async () => expect((await fixture.observer.request(topic('cmd/snapshot'), {})).ok).toBe(true),
      {
        timeout: 20_000,
        interval: 200,
      },
    );
    const pictured = fixture.observer.next(
      (m) => m.topic === topic('evt/motion') && m.json().phase === 'snapshot',
      'the PIR alarm picture',
      20_000,
    );
    await board('?hold=pir&ms=1500');
    const start = (await alarm).json();
    expect(start).toMatchObject({ phase: 'start', source: 'pir', picture: true });
    // With alarm pictures on, the picture of the main stream follows the start (docs/protocol.md).
    expect((await pictured).json()).toMatchObject({
      alarmId: start.alarmId,
      snapshot: { width: SMALL_STREAMS.main.width, height: SMALL_STREAMS.main.height },
    });
  }, 60_000);
});
