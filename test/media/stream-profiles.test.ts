import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureFfmpegPid, simRtspUrl, startSim } from '../cli/sim-fixture.js';
import { useBroker } from '../helpers/broker-fixture.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { decodeFrames, ffprobe, SMALL_STREAMS } from '../helpers/media.js';

interface Reported {
  version: number;
  state: { stream: typeof SMALL_STREAMS };
  result: { applied: string[]; rejected: { key: string; code: string; message: string }[] };
}

/** Stream profiles from desired state on a live simulator: bad ones are refused, the stream runs on. */
describe('stream profiles from desired state', () => {
  const fixture = useBroker();
  let sim: DaemonProcess;
  let serial: string;
  let pid: number | undefined;
  let version = 0;
  const topic = (rest: string) => `cam/v1/${serial}/${rest}`;

  async function desire(stream: Record<string, unknown>): Promise<Reported> {
    version += 1;
    const expected = version;
    const reported = fixture.observer.next(
      (m) => m.topic === topic('state/reported') && m.json().version === expected,
      `reported v${expected}`,
    );
    await fixture.observer.client.publishAsync(
      topic('state/desired'),
      JSON.stringify({ version: expected, state: { stream } }),
      // Retained, as the cloud keeps desired state.
      { qos: 1, retain: true },
    );
    return (await reported).json<Reported>();
  }

  beforeAll(async () => {
    ({ sim } = await startSim({ brokerPort: fixture.broker.port }));
    serial = await sim.banner('device id');
    await sim.banner('rtsp', 30_000);
    // Reported once it listens for desired state.
    await fixture.observer.waitFor((m) => m.topic === topic('state/reported'), 'first reported state');
    pid = await captureFfmpegPid(sim.child.pid ?? 0);
  }, 60_000);
  afterAll(async () => {
    await sim.kill();
  });

  const refused = [
    {
      name: 'an odd main width',
      stream: { main: { width: 641 } },
      key: 'stream.main.width',
      says: /multiple of 2/,
    },
    {
      name: 'an odd sub height',
      stream: { sub: { height: 181 } },
      key: 'stream.sub.height',
      says: /multiple of 2/,
    },
    {
      name: 'an 8K main picture',
      stream: { main: { width: 7680, height: 4320 } },
      key: 'stream.main.width',
      says: /less or equal to 3840/,
    },
    { name: 'a picture below 160x90', stream: { sub: { width: 120 } }, key: 'stream.sub.width', says: /160/ },
    { name: '0 fps', stream: { sub: { fps: 0 } }, key: 'stream.sub.fps', says: /greater or equal to 1/ },
    { name: '120 fps', stream: { main: { fps: 120 } }, key: 'stream.main.fps', says: /less or equal to 60/ },
    {
      name: 'a 1 Gbit/s bitrate',
      stream: { main: { bitrateKbps: 1_000_000 } },
      key: 'stream.main.bitrateKbps',
      says: /less or equal to 20000/,
    },
    {
      name: 'a fractional width',
      stream: { main: { width: 640.5 } },
      key: 'stream.main.width',
      says: /integer/,
    },
  ];

  for (const row of refused) {
    it(`refuses ${row.name} in the reported result and keeps the stream running`, async () => {
      expect(pid).toBeDefined();
      const reported = await desire(row.stream);
      expect(reported.result.applied).toEqual([]);
      expect(reported.result.rejected).toEqual([
        expect.objectContaining({
          key: row.key,
          code: 'invalid_value',
          message: expect.stringMatching(row.says),
        }),
      ]);
      expect(reported.state.stream).toEqual(SMALL_STREAMS);
      // The same ffmpeg as before: not restarted, let alone crash-looping.
      expect(await captureFfmpegPid(sim.child.pid ?? 0)).toBe(pid);
    });
  }

  it('serves frames after all that, applies a good profile, and raised no capture error', async () => {
    const decoded = await decodeFrames(await simRtspUrl(sim, '/sub'), 10);
    expect(decoded.code).toBe(0);

    const sub = { width: 426, height: 240, fps: 10, bitrateKbps: 300 };
    const reported = await desire({ sub });
    expect(reported.result).toMatchObject({ applied: ['stream'], rejected: [] });
    await sim.waitForLog('stream settings changed: restarting the encoder');
    // The old stream's parameters may still be cached for a moment; the new size shows once it runs.
    let width = 0;
    for (let attempt = 0; attempt < 10 && width !== sub.width; attempt += 1) {
      const streams = await ffprobe(await simRtspUrl(sim, '/sub'), 'tcp');
      width = streams.find((s) => s.codec_type === 'video')?.width ?? 0;
    }
    expect(width).toBe(sub.width);
    // A restart the settings asked for is not a crash.
    expect(fixture.observer.seen.filter((m) => m.topic === topic('evt/error'))).toEqual([]);
    expect(sim.child.exitCode).toBeNull();
  });
});
