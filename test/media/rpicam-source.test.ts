import { mkdir, readFile, symlink } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copiedPictures,
  expectWrittenRun,
  ffprobe,
  type MediaDevice,
  startMediaDevice,
} from '../helpers/media.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { childProcesses } from '../helpers/proc.js';

/** The rpicam-vid stand-in (same flags, same output: inline-header Annex-B H.264 on stdout). */
const STAND_IN = resolve('test/fixtures/rpicam/rpicam-vid');

describe.each([
  ['rpicam-vid', 'rpicam-vid'],
  // Bullseye images name it libcamera-vid: `command: auto` finds that one when rpicam-vid is absent.
  ['libcamera-vid', 'libcamera-vid'],
])('rpicam source with the %s stand-in on PATH', (name) => {
  let broker: Mosquitto;
  let cam: MediaDevice;
  let dir: TempDir;
  let tee: string;

  beforeAll(async () => {
    dir = await tempDir();
    const bin = join(dir.path, 'bin');
    await mkdir(bin);
    await symlink(STAND_IN, join(bin, name));
    tee = join(dir.path, 'written.h264');
    broker = await Mosquitto.start();
    cam = await startMediaDevice(broker.url, {
      media: {
        source: {
          kind: 'rpicam',
          command: 'auto',
          main: { width: 320, height: 180, fps: 15, bitrateKbps: 300 },
        },
      },
      env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, RPICAM_STANDIN_TEE: tee },
      // testsrc2 moves: motion alarms would start snapshot decoders and clip muxers of their own.
      settings: { motion: { enabled: false } },
    });
    await cam.daemon.waitForLog('analysis frames flowing', 30_000);
  }, 60_000);

  afterAll(async () => {
    await cam?.daemon.kill();
    await broker?.stop();
    await dir?.remove();
  });

  it('starts the camera program with the hardware-H.264-to-stdout argv, supervised', async () => {
    const children = await childProcesses(cam.daemon.child.pid ?? 0);
    const camera = children.filter((c) => c.argv.some((a) => a.endsWith(`/${name}`)));
    expect(camera).toHaveLength(1);
    const argv = camera[0]?.argv.slice(2) ?? [];
    expect(argv.join(' ')).toBe(
      '-n -t 0 --codec h264 --inline --flush --profile baseline --level 4.1 --width 320 --height 180 --framerate 15 --bitrate 300000 --intra 30 -o -',
    );
  });

  it('serves the camera H.264 over RTSP (TCP and UDP) with the pictures byte for byte', async () => {
    for (const transport of ['tcp', 'udp'] as const) {
      const streams = await ffprobe(cam.url('/main'), transport);
      expect(streams.filter((s) => s.codec_type === 'video')).toEqual([
        expect.objectContaining({ codec_name: 'h264', width: 320, height: 180 }),
      ]);
    }
    const got = await copiedPictures(cam.url('/main'), 30);
    expectWrittenRun(got, await readFile(tee));
  });

  it('encodes nothing: the one ffmpeg of the agent decodes for analysis, no standby snapshot decoder', async () => {
    const children = await childProcesses(cam.daemon.child.pid ?? 0);
    const ffmpegs = children.filter((c) => c.argv.some((a) => a.endsWith('ffmpeg')));
    expect(ffmpegs.map((c) => c.argv.join(' '))).toEqual([
      expect.stringContaining('-f h264 -framerate 15 -i pipe:0'),
    ]);
    for (const c of ffmpegs) expect(c.argv.join(' ')).not.toMatch(/libx264|h264_\w+|-c:v/);
  });
});

describe('rpicam source before the camera program is installed', () => {
  let broker: Mosquitto;
  let dir: TempDir;

  beforeAll(async () => {
    dir = await tempDir();
    broker = await Mosquitto.start();
  });
  afterAll(async () => {
    await broker?.stop();
    await dir?.remove();
  });

  it('keeps the agent up, names the key, and starts the camera once the program appears', async () => {
    const bin = join(dir.path, 'bin');
    await mkdir(bin);
    const cam = await startMediaDevice(broker.url, {
      media: {
        source: {
          kind: 'rpicam',
          command: 'auto',
          main: { width: 320, height: 180, fps: 15, bitrateKbps: 300 },
        },
      },
      env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
    });
    try {
      const line = await cam.daemon.waitForLog('rpicam source cannot start');
      expect(line).toContain('media.source.command: neither rpicam-vid nor libcamera-vid found on PATH');
      await symlink(STAND_IN, join(bin, 'rpicam-vid'));
      await cam.daemon.waitForLog('analysis frames flowing', 30_000);
      const streams = await ffprobe(cam.url('/main'), 'tcp');
      expect(streams.filter((s) => s.codec_type === 'video')).toHaveLength(1);
    } finally {
      await cam.daemon.kill();
    }
  }, 60_000);
});
