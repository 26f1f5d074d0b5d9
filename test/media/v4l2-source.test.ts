import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMediaDevice } from '../helpers/media.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';

interface Info {
  media?: { source: string; video: string; encoder?: string; encoderCheck?: string; inputFormat?: string };
}

/**
 * The daemon's choices at start, seen from outside (log and the retained `info`). No camera here:
 * a stand-in v4l2-ctl prints a recorded format list, and the capture ffmpeg that then fails to open
 * the device is only backed off; what is checked is what the agent decided and reported.
 */
describe('v4l2 source: format and encoder chosen at start, reported in info', () => {
  let broker: Mosquitto;
  let dir: TempDir;
  let observer: Observer;
  let bin: string;

  beforeAll(async () => {
    dir = await tempDir();
    bin = join(dir.path, 'bin');
    await mkdir(bin);
    const listing = await readFile(resolve('test/fixtures/v4l2/uvc-h264.txt'), 'utf8');
    await writeFile(join(dir.path, 'uvc-h264.txt'), listing);
    // Same argv as v4l2-ctl's; prints the recorded listing of a UVC H.264 camera.
    await writeFile(
      join(bin, 'v4l2-ctl'),
      `#!/usr/bin/env node\nimport { readFileSync } from 'node:fs';\nconst a = process.argv.slice(2);\nif (a[0] !== '--device' || a[2] !== '--list-formats-ext') process.exit(1);\nprocess.stdout.write(readFileSync(${JSON.stringify(join(dir.path, 'uvc-h264.txt'))}));\n`,
    );
    await chmod(join(bin, 'v4l2-ctl'), 0o755);
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/+/info']);
  });

  afterAll(async () => {
    await observer?.client.endAsync();
    await broker?.stop();
    await dir?.remove();
  });

  const infoOf = async (serial: string) =>
    (await observer.waitFor((m) => m.topic === `cam/v1/${serial}/info`, 'info', 30_000)).json<Info>();

  it('a UVC H.264 camera is copied: no encoder, no test encode', async () => {
    const cam = await startMediaDevice(broker.url, {
      media: {
        source: { kind: 'v4l2', device: '/dev/video-test-none', width: 1920, height: 1080, fps: 30 },
        encoder: 'h264_v4l2m2m',
      },
      env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
    });
    try {
      const chosen = JSON.parse(await cam.daemon.waitForLog('v4l2 format chosen')) as Record<string, unknown>;
      expect(chosen).toMatchObject({ inputFormat: 'h264', fourcc: 'H264', copy: true });
      const argv = await cam.daemon.waitForLog('starting child process');
      expect(argv).toContain('-input_format h264');
      expect(argv).toContain('-c:v copy');
      expect(argv).not.toContain('h264_v4l2m2m');
      expect((await infoOf(cam.device.serial)).media).toEqual({
        source: 'v4l2',
        video: 'copy',
        inputFormat: 'h264',
      });
      expect(cam.daemon.stdout.lines.some((l) => l.includes('test encode'))).toBe(false);
    } finally {
      await cam.daemon.kill();
    }
  }, 60_000);

  it('a named encoder that does not work is logged by name at start and reported failed', async () => {
    const cam = await startMediaDevice(broker.url, { media: { encoder: 'h264_rkmpp' } });
    try {
      const line = JSON.parse(await cam.daemon.waitForLog('video encoder failed its test encode')) as {
        encoder: string;
        error: string;
      };
      expect(line.encoder).toBe('h264_rkmpp');
      expect(line.error).toMatch(/rkmpp|encoder/i);
      expect((await infoOf(cam.device.serial)).media).toEqual({
        source: 'test',
        video: 'encode',
        encoder: 'h264_rkmpp',
        encoderCheck: 'failed',
      });
    } finally {
      await cam.daemon.kill();
    }
  }, 60_000);
});
