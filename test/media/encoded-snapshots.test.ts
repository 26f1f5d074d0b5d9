import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMediaDevice } from '../helpers/media.js';
import { ffmpeg, run } from '../helpers/media-fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';
import { childProcesses } from '../helpers/proc.js';

/** The camera's encoder as a command: H.264 320x180 at 15 fps on stdout. */
const WRITER = [
  ...['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
  ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast'],
  ...['-g', '15', '-bf', '0', '-x264-params', 'repeat-headers=1', '-f', 'h264', 'pipe:1'],
];
/** A second, smaller stream of the camera's encoder: 160x90. */
const SUB_WRITER = WRITER.map((a) =>
  a === 'testsrc2=size=320x180:rate=15' ? 'testsrc2=size=160x90:rate=15' : a,
);
/** The SoC scaler's small output: NV12 frames at the analysis size (320x180) and rate. */
const SCALER = [
  ...['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
  ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=5', '-pix_fmt', 'nv12', '-f', 'rawvideo', 'pipe:1'],
];
/** The SoC's JPEG encoder: one still on stdout. */
const JPEG = [
  ...['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin'],
  ...['-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=1', '-frames:v', '1', '-f', 'mjpeg', 'pipe:1'],
];

const isStandbyDecoder = (argv: string[]) => argv.join(' ').includes('-frames:v 1 -q:v 3 -f mjpeg');
/** testsrc2 moves: without this, motion alarms would start snapshot decoders and clip muxers of their own. */
const NO_MOTION = { motion: { enabled: false } };
const isAnalysisDecoder = (argv: string[]) => argv.join(' ').includes('-f h264 -framerate');

describe('encoded source: analysis frames from the scaler, snapshots from the SoC JPEG, no standby decoder', () => {
  let broker: Mosquitto;
  let observer: Observer;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/#']);
  });
  afterAll(async () => {
    await observer?.client.endAsync();
    await broker?.stop();
  });

  it('keeps no decoder at all: scaler frames flow, the snapshot is the JPEG command output', async () => {
    const cam = await startMediaDevice(broker.url, {
      media: {
        source: { kind: 'pipe', main: { command: WRITER, fps: 15 } },
        analysis: { input: { command: SCALER, format: 'nv12' } },
        snapshot: { command: JPEG },
      },
      settings: NO_MOTION,
    });
    try {
      await cam.daemon.waitForLog('analysis frames flowing (scaler output)', 30_000);
      await cam.daemon.waitForLog('pipe source started');
      const children = await childProcesses(cam.daemon.child.pid ?? 0);
      expect(children.filter((c) => isAnalysisDecoder(c.argv) || isStandbyDecoder(c.argv))).toEqual([]);
      const answer = await observer.request(`cam/v1/${cam.device.serial}/cmd/snapshot`, {});
      expect(answer).toMatchObject({ ok: true, result: { width: 320, height: 180 } });
      const { key } = answer.result as { key: string };
      const stored = await readFile(join(cam.device.dataDir, 'media', key));
      const { stdout: expected } = await ffmpeg(JPEG.slice(1));
      expect(stored.equals(expected)).toBe(true);
    } finally {
      await cam.daemon.kill();
    }
  }, 60_000);

  it('by default no standby and the sub stream decoded; configured: a standby and main', async () => {
    for (const [snapshot, size] of [
      [undefined, { width: 160, height: 90 }],
      [
        { standby: true, stream: 'main' },
        { width: 320, height: 180 },
      ],
    ] as const) {
      const cam = await startMediaDevice(broker.url, {
        media: {
          source: { kind: 'pipe', main: { command: WRITER, fps: 15 }, sub: { command: SUB_WRITER, fps: 15 } },
          ...(snapshot ? { snapshot } : {}),
        },
        settings: NO_MOTION,
      });
      try {
        await cam.daemon.waitForLog('analysis frames flowing', 30_000);
        const answer = await observer.request(`cam/v1/${cam.device.serial}/cmd/snapshot`, {});
        expect(answer).toMatchObject({ ok: true, result: size });
        const { key } = answer.result as { key: string };
        const jpeg = join(cam.device.dataDir, 'media', key);
        // The stored picture is a JPEG of that size (ffprobe reads it).
        const { stdout } = await run('ffprobe', [
          ...['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', jpeg],
        ]);
        expect(stdout.toString().trim()).toBe(`mjpeg,${size.width},${size.height}`);
        // The standby is started again once a picture is out: wait for it where one is configured.
        const standbys = async () =>
          (await childProcesses(cam.daemon.child.pid ?? 0)).filter((c) => isStandbyDecoder(c.argv));
        const end = Date.now() + 10_000;
        while (snapshot && (await standbys()).length === 0 && Date.now() < end)
          await new Promise((r) => setTimeout(r, 100));
        expect(await standbys()).toHaveLength(snapshot ? 1 : 0);
        const children = await childProcesses(cam.daemon.child.pid ?? 0);
        expect(children.filter((c) => isAnalysisDecoder(c.argv))).toHaveLength(1);
      } finally {
        await cam.daemon.kill();
      }
    }
  }, 90_000);
});
