import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaConfig } from '../../src/media/config.js';
import { checkEncoder } from '../../src/media/encoder-check.js';
import { buildCaptureArgs } from '../../src/media/ffmpeg-args.js';
import { chooseV4l2Format, parseV4l2Formats, type V4l2Plan } from '../../src/media/v4l2-formats.js';
import { ffmpeg, type TempDir, tempDir } from '../helpers/media-fixtures.js';

const FIXTURES = 'test/fixtures/v4l2';
const defaults = Value.Default(MediaConfig, {}) as MediaConfig;
const fixture = async (name: string) => parseV4l2Formats(await readFile(join(FIXTURES, name), 'utf8'));

/** The capture argv for a device of that format, with the SoC encoder named in config. */
function argvFor(plan: V4l2Plan | undefined, want: { width: number; height: number; fps: number }): string[] {
  return buildCaptureArgs({
    source: { kind: 'v4l2', device: '/dev/video0', ...want },
    audio: { ...defaults.audio, codec: 'none' },
    encoder: 'h264_v4l2m2m',
    analysis: defaults.analysis,
    gopSeconds: 2,
    main: { ...want, bitrateKbps: 2000 },
    sub: { width: 640, height: 360, fps: 10, bitrateKbps: 400 },
    v4l2: plan,
  });
}

describe('v4l2 format choice over recorded v4l2-ctl --list-formats-ext outputs', () => {
  const table: {
    file: string;
    want: { width: number; height: number; fps: number };
    inputFormat: string | undefined;
    video: 'copy' | 'encode' | 'none';
  }[] = [
    // UVC H.264 camera: its own H.264 at 1080p30 is copied; raw YUYV would be 5 fps there.
    {
      file: 'uvc-h264.txt',
      want: { width: 1920, height: 1080, fps: 30 },
      inputFormat: 'h264',
      video: 'copy',
    },
    { file: 'uvc-h264.txt', want: { width: 640, height: 480, fps: 15 }, inputFormat: 'h264', video: 'copy' },
    // A size the camera does not encode: none fits, ffmpeg's default (and the encoder) it is.
    {
      file: 'uvc-h264.txt',
      want: { width: 800, height: 600, fps: 30 },
      inputFormat: undefined,
      video: 'none',
    },
    // The Pi's legacy camera driver: VideoCore encodes H.264 at any even size up to 2592x1944.
    {
      file: 'bcm2835-mmal.txt',
      want: { width: 1920, height: 1080, fps: 30 },
      inputFormat: 'h264',
      video: 'copy',
    },
    {
      file: 'bcm2835-mmal.txt',
      want: { width: 1296, height: 972, fps: 42 },
      inputFormat: 'h264',
      video: 'copy',
    },
    // unicam with a raw sensor: Bayer only, nothing ffmpeg can take (use rpicam).
    {
      file: 'bcm2835-unicam-imx219.txt',
      want: { width: 1920, height: 1080, fps: 30 },
      inputFormat: undefined,
      video: 'none',
    },
    // Raw webcam: YUYV encoded by the SoC encoder.
    {
      file: 'yuyv-webcam.txt',
      want: { width: 640, height: 480, fps: 30 },
      inputFormat: 'yuyv422',
      video: 'encode',
    },
    // Its 720p exists only at 10 fps: still raw at that size (the rate is the device's).
    {
      file: 'yuyv-webcam.txt',
      want: { width: 1280, height: 720, fps: 30 },
      inputFormat: 'yuyv422',
      video: 'encode',
    },
    // MJPEG webcam: 1080p30 only as MJPEG (decoded, then encoded); 640x480 at 30 raw is preferred.
    {
      file: 'mjpeg-webcam.txt',
      want: { width: 1920, height: 1080, fps: 30 },
      inputFormat: 'mjpeg',
      video: 'encode',
    },
    {
      file: 'mjpeg-webcam.txt',
      want: { width: 640, height: 480, fps: 30 },
      inputFormat: 'yuyv422',
      video: 'encode',
    },
  ];

  it.each(table)('$file at $want.width x $want.height @ $want.fps: $inputFormat, $video', async (row) => {
    const plan = chooseV4l2Format(await fixture(row.file), row.want);
    expect(plan?.inputFormat).toBe(row.inputFormat);
    const a = argvFor(plan, row.want);
    const line = a.join(' ');
    if (row.inputFormat) expect(line).toContain(`-f v4l2 -input_format ${row.inputFormat} -video_size`);
    else expect(line).not.toContain('-input_format');
    if (row.video === 'copy') {
      expect(plan?.copy).toBe(true);
      // Main and sub are the device's H.264 as it is; ffmpeg only decodes for the analysis frames.
      expect(a.filter((x) => x === '-c:v')).toHaveLength(2);
      expect(line).toContain('-map 0:v:0 -c:v copy -f mpegts');
      expect(line).not.toMatch(/h264_v4l2m2m|libx264|-g /);
      expect(line).toContain(`format=gray[vana]`);
    } else {
      // Raw (or MJPEG) pictures: the SoC encoder named in config, for main and sub.
      expect(a.filter((x) => x === 'h264_v4l2m2m')).toHaveLength(2);
      expect(line).not.toContain('copy');
    }
  });

  it('parses formats, sizes and rates, and keeps within its bounds on any text', async () => {
    const uvc = await fixture('uvc-h264.txt');
    expect(uvc.map((f) => [f.fourcc, f.compressed])).toEqual([
      ['YUYV', false],
      ['H264', true],
      ['MJPG', true],
    ]);
    expect(uvc[1]?.sizes[2]).toEqual({
      minWidth: 1920,
      maxWidth: 1920,
      minHeight: 1080,
      maxHeight: 1080,
      stepWidth: 1,
      stepHeight: 1,
      fps: [30, 24, 20, 15],
    });
    const mmal = await fixture('bcm2835-mmal.txt');
    expect(mmal).toHaveLength(14);
    expect(mmal[4]?.sizes[0]).toMatchObject({ minWidth: 32, maxWidth: 2592, stepWidth: 2, fps: [] });
    expect(parseV4l2Formats('garbage\n\t[0]: nothing\nSize: Discrete 1x1')).toEqual([]);
    const many = Array.from({ length: 500 }, (_, i) => `\t[${i}]: 'YUYV' (YUYV 4:2:2)`).join('\n');
    expect(parseV4l2Formats(many)).toHaveLength(64);
  });

  it('an explicit inputFormat h264 is copied without asking the device', () => {
    const a = buildCaptureArgs({
      source: { kind: 'v4l2', device: '/dev/video0', width: 1280, height: 720, fps: 30, inputFormat: 'h264' },
      audio: defaults.audio,
      encoder: 'h264_rkmpp',
      analysis: defaults.analysis,
      gopSeconds: 2,
      main: { width: 1280, height: 720, fps: 30, bitrateKbps: 2000 },
      sub: { width: 640, height: 360, fps: 10, bitrateKbps: 400 },
    });
    expect(a.join(' ')).toContain('-input_format h264');
    expect(a.join(' ')).not.toContain('h264_rkmpp');
  });
});

describe('the copy argv, run by ffmpeg with an H.264 stream standing for the device', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => dir?.remove());

  it('writes the main and sub TS with the input pictures unchanged, and gray analysis frames', async () => {
    const input = join(dir.path, 'device.h264');
    await ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15', '-t', '2'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-bf', '0', '-f', 'h264', input],
    ]);
    const want = { width: 320, height: 180, fps: 15 };
    const argv = argvFor({ inputFormat: 'h264', fourcc: 'H264', copy: true, reason: '' }, want);
    // The device input (`-f v4l2 ... -i /dev/video0`) replaced by the file; everything else as built.
    const from = argv.indexOf('-f');
    const to = argv.indexOf('/dev/video0');
    const run = [
      ...argv.slice(0, from),
      '-f',
      'h264',
      '-framerate',
      '15',
      '-i',
      input,
      ...argv.slice(to + 1),
    ];
    const outputs = await new Promise<Buffer[]>((resolve, reject) => {
      const child = spawn('ffmpeg', run, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
      const bufs: Buffer[][] = [[], [], []];
      for (const [i, fd] of [3, 4, 5].entries()) child.stdio[fd]?.on('data', (c: Buffer) => bufs[i]?.push(c));
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.once('close', (code) =>
        code === 0
          ? resolve(bufs.map((b) => Buffer.concat(b)))
          : reject(new Error(`ffmpeg ${code}: ${stderr}`)),
      );
    });
    const [main, sub, analysis] = outputs as [Buffer, Buffer, Buffer];
    const original = await readFile(input);
    for (const ts of [main, sub]) {
      const ts264 = join(dir.path, 'out.ts');
      await writeFile(ts264, ts);
      const back = join(dir.path, 'back.h264');
      await ffmpeg(['-i', ts264, '-c', 'copy', '-f', 'h264', back]);
      // Same slices as the device wrote (the TS carries them untouched).
      const slices = (b: Buffer) =>
        b
          .toString('hex')
          .split('000001')
          .filter((s) => /^(25|21|65|41)/.test(s));
      expect(slices(original).length).toBeGreaterThanOrEqual(30);
      expect(slices(await readFile(back))).toEqual(slices(original));
    }
    expect(analysis.length % (defaults.analysis.width * defaults.analysis.height)).toBe(0);
    expect(analysis.length).toBeGreaterThan(0);
  });
});

describe('encoder test encode', () => {
  it('libx264 works; an encoder this ffmpeg lacks or cannot open fails with its words', async () => {
    expect(await checkEncoder('ffmpeg', 'libx264', { width: 320, height: 180, fps: 15 })).toEqual({
      encoder: 'libx264',
      ok: true,
    });
    const rkmpp = await checkEncoder('ffmpeg', 'h264_rkmpp', { width: 320, height: 180, fps: 15 });
    expect(rkmpp).toMatchObject({ encoder: 'h264_rkmpp', ok: false });
    expect(rkmpp.error).toMatch(/h264_rkmpp|Unknown encoder/i);
  });
});
