import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { PICAMERA2_EXTRA_ARGS } from '../../src/media/config.js';
import { NalType, nalType, splitAnnexB } from '../../src/media/h264.js';
import { findPicamera2, PICAMERA2_PROGRAM, picamera2Args } from '../../src/media/picamera2.js';
import { gstDecodeUdp, gstDepayToFile } from '../helpers/gst.js';
import {
  copiedPictures,
  run as exec,
  expectWrittenRun,
  ffprobe,
  type MediaDevice,
  startMediaDevice,
} from '../helpers/media.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { childProcesses } from '../helpers/proc.js';

/** Where the Picamera2 stand-in lives (test/fixtures/picamera2/README.md): put on PYTHONPATH. */
const STAND_IN = resolve('test/fixtures/picamera2');
const isPicture = (n: Buffer) => nalType(n) === NalType.SLICE || nalType(n) === NalType.IDR;
const MAIN = { width: 320, height: 180, fps: 15, bitrateKbps: 300 };
const SUB = { width: 160, height: 90, bitrateKbps: 100 };
const PROGRAM_ARGS = [
  ...['--width', '320', '--height', '180', '--framerate', '15', '--bitrate', '300000'],
  ...['--lores-width', '160', '--lores-height', '90', '--lores-bitrate', '100000'],
  ...['--intra', '30'],
];

async function until<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Run {
  child: ChildProcess;
  main: () => Buffer;
  sub: () => Buffer;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** The program as the agent runs it: stdout and fd 3 are pipes, the stand-in on PYTHONPATH. */
function runProgram(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn('python3', [PICAMERA2_PROGRAM, ...args], {
    env: { ...process.env, PYTHONPATH: STAND_IN, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const main: Buffer[] = [];
  const sub: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => main.push(c));
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => sub.push(c));
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    main: () => Buffer.concat(main),
    sub: () => Buffer.concat(sub),
    stderr: () => stderr,
    exit,
  };
}

describe('rpicam sub stream as a size: config', () => {
  const rpicam =
    (sub: unknown, more: Record<string, unknown> = {}) =>
    () =>
      parseConfig({ media: { source: { kind: 'rpicam', command: 'auto', main: MAIN, sub, ...more } } });

  it('accepts a size, or a writer as before; without `command`, rpicam-vid is looked for', () => {
    const bare = parseConfig({ media: { source: { kind: 'rpicam', main: MAIN } } }).media.source;
    expect(bare).toEqual({ kind: 'rpicam', main: MAIN });
    expect(rpicam(SUB)().media.source).toMatchObject({ kind: 'rpicam', sub: SUB });
    expect(rpicam({ fifo: '/run/sub.h264' })().media.source).toMatchObject({
      sub: { fifo: '/run/sub.h264' },
    });
    expect(rpicam(SUB, { python: '/usr/bin/python3' })().media.source).toMatchObject({
      python: '/usr/bin/python3',
    });
  });

  it.each([
    [
      { ...SUB, width: 640 },
      /^config: media\.source\.sub\.width: 640 is larger than media\.source\.main\.width \(320\)/,
    ],
    [
      { ...SUB, height: 360 },
      /^config: media\.source\.sub\.height: 360 is larger than media\.source\.main\.height/,
    ],
    [
      { ...SUB, width: 161 },
      /^config: media\.source\.sub\.width: expected integer .*a multiple of 2, got 161/,
    ],
    // A size without its bit rate is named as such, not as "sub: expected a valid value".
    [{ width: 160, height: 90 }, /^config: media\.source\.sub\.bitrateKbps: expected integer/],
  ])('refuses %j, naming the key', (sub, message) => {
    expect(rpicam(sub)).toThrow(message);
  });

  it('takes only the options the two-stream program has; rpicam-vid keeps all of its own', () => {
    expect(rpicam(SUB, { extraArgs: ['--hflip', '--vflip'] })).not.toThrow();
    expect(rpicam(SUB, { extraArgs: ['--hflip', '--denoise', 'cdn_off'] })).toThrow(
      /^config: media\.source\.extraArgs: "--denoise" is not an option of the two-stream camera program/,
    );
    expect(rpicam({ fifo: '/run/sub.h264' }, { extraArgs: ['--denoise', 'cdn_off'] })).not.toThrow();
  });
});

describe('rpicam sub stream as a size: the program', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => dir?.remove());

  it('is given both sizes, the frame rate, bit rates in bit/s and the keyframe period', () => {
    expect(picamera2Args({ main: MAIN, camera: 1, extraArgs: ['--hflip'] }, SUB, 2)).toEqual([
      ...['--camera', '1'],
      ...PROGRAM_ARGS,
      ...['--sub-fd', '3', '--hflip'],
    ]);
  });

  it('is found with the python of the config, and a missing one names the key', async () => {
    const bin = join(dir.path, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'python3'), '#!/bin/true\n');
    await chmod(join(bin, 'python3'), 0o755);
    expect(await findPicamera2(undefined, bin)).toEqual([join(bin, 'python3'), PICAMERA2_PROGRAM]);
    await expect(findPicamera2('python3.13', bin)).rejects.toThrow(
      'media.source.python: python3.13 not found on PATH',
    );
    await expect(findPicamera2(join(dir.path, 'py'), bin)).rejects.toThrow(
      /^media\.source\.python: .*\/py is not an executable file$/,
    );
    await expect(findPicamera2(undefined, bin, join(dir.path, 'gone.py'))).rejects.toThrow(
      /^media\.source\.sub: the two-stream camera program .*gone\.py is missing/,
    );
  });

  // vc4: the VideoCore's V4L2 encoder (Pi 3/4); pisp: libav's, which H264Encoder is on a Pi 5.
  it.each(['vc4', 'pisp'])(
    'on %s, writes main on stdout and the sub stream on fd 3, each at its size, until SIGTERM',
    async (platform) => {
      // A keyframe every 10 frames: 20 pictures hold two of them. Every extra option the config lets
      // through is one the program takes.
      const run = runProgram([...PROGRAM_ARGS.slice(0, -1), '10', ...PICAMERA2_EXTRA_ARGS], {
        PICAMERA2_STANDIN_PLATFORM: platform,
      });
      const pictures = (bytes: Buffer) => splitAnnexB(bytes).filter(isPicture);
      try {
        await until(() => (pictures(run.sub()).length >= 20 ? true : undefined), '20 sub pictures', 10_000);
        await until(() => (pictures(run.main()).length >= 20 ? true : undefined), '20 main pictures', 10_000);
      } finally {
        run.child.kill('SIGTERM');
      }
      expect(await run.exit).toBe(0);
      for (const [bytes, width, height] of [
        [run.main(), 320, 180],
        [run.sub(), 160, 90],
      ] as const) {
        const file = join(dir.path, `${width}.h264`);
        await writeFile(file, bytes);
        const { stdout } = await exec('ffprobe', [
          ...['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', file],
        ]);
        expect(stdout.trim()).toBe(`h264,${width},${height}`);
      }
      // Each stream starts at a keyframe, and has SPS and PPS before every IDR: a viewer joins at any.
      for (const bytes of [run.main(), run.sub()])
        expect(nalType(pictures(bytes)[0] ?? Buffer.alloc(4))).toBe(NalType.IDR);
      const types = splitAnnexB(run.sub()).map(nalType);
      const idrs = types.flatMap((t, i) => (t === NalType.IDR ? [i] : []));
      expect(idrs.length).toBeGreaterThanOrEqual(2);
      for (const i of idrs) {
        const since = types.slice(0, i).findLastIndex((t) => t === NalType.SLICE || t === NalType.IDR);
        expect(types.slice(since + 1, i)).toEqual(expect.arrayContaining([NalType.SPS, NalType.PPS]));
      }
    },
    30_000,
  );

  it.each([
    ['no fd 3', [], { stdio: 'no-fd3' }, 2, /fd 3 is not open for the sub stream/],
    [
      'a sub larger than main',
      ['--lores-width', '640'],
      {},
      2,
      /the lores stream cannot be larger than the main one/,
    ],
    ['no camera', [], { PICAMERA2_STANDIN_CAMERAS: '0' }, 1, /camera 0 cannot be opened \(IndexError/],
    [
      'no picamera2',
      [],
      { PYTHONPATH: '' },
      1,
      /picamera2 cannot be imported .*: install python3-picamera2, or set media\.source\.python/,
    ],
    // An exception in an encoder's thread ends it and leaves the process up: it must not stay up.
    [
      'an encoder thread dying',
      [],
      { PICAMERA2_STANDIN_FAIL: 'lores:raise:5' },
      1,
      /lores encoder died: RuntimeError/,
    ],
    [
      'a stream going silent',
      ['--silent-timeout', '1'],
      { PICAMERA2_STANDIN_FAIL: 'main:hang:5' },
      1,
      /the main stream wrote nothing for \d+ s: stopping/,
    ],
  ])('exits with a clear message: %s', async (_name, extra, env, code, message) => {
    const args = [...PROGRAM_ARGS, ...extra];
    const { stdio, ...rest } = env as Record<string, string>;
    if (stdio === 'no-fd3') {
      const child = spawn('python3', [PICAMERA2_PROGRAM, ...args], {
        env: { ...process.env, PYTHONPATH: STAND_IN },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      expect(await new Promise((r) => child.once('exit', r))).toBe(code);
      expect(stderr).toMatch(message);
      return;
    }
    const run = runProgram(args, rest);
    expect(await run.exit).toBe(code);
    expect(run.stderr()).toMatch(message);
  });

  it('stops when the reader of a stream goes away, rather than encoding for nobody', async () => {
    const run = runProgram(PROGRAM_ARGS);
    await until(() => (run.sub().length > 0 ? true : undefined), 'sub bytes');
    (run.child.stdio[3] as NodeJS.ReadableStream & { destroy(): void }).destroy();
    expect(await run.exit).toBe(1);
    expect(run.stderr()).toMatch(/a reader went away/);
  });
});

describe('rpicam source with a sub size, on the Picamera2 stand-in', () => {
  let broker: Mosquitto;
  let cam: MediaDevice;
  let dir: TempDir;

  beforeAll(async () => {
    dir = await tempDir();
    broker = await Mosquitto.start();
    cam = await startMediaDevice(broker.url, {
      media: { source: { kind: 'rpicam', command: 'auto', main: MAIN, sub: SUB } },
      env: { PYTHONPATH: STAND_IN, PICAMERA2_STANDIN_TEE: dir.path },
      // testsrc2 moves: motion alarms would start snapshot decoders of their own.
      settings: { motion: { enabled: false } },
    });
    await cam.daemon.waitForLog('analysis frames flowing', 30_000);
  }, 60_000);

  afterAll(async () => {
    await cam?.daemon.kill();
    await broker?.stop();
    await dir?.remove();
  });

  const program = async () =>
    (await childProcesses(cam.daemon.child.pid ?? 0)).filter((c) => c.argv.includes(PICAMERA2_PROGRAM));

  it('runs one camera program for both streams, no rpicam-vid, and decodes the sub stream for analysis', async () => {
    const programs = await program();
    expect(programs).toHaveLength(1);
    expect(programs[0]?.argv.slice(programs[0].argv.indexOf(PICAMERA2_PROGRAM) + 1)).toEqual([
      ...PROGRAM_ARGS,
      ...['--sub-fd', '3'],
    ]);
    const children = await childProcesses(cam.daemon.child.pid ?? 0);
    expect(children.filter((c) => c.argv.some((a) => /rpicam-vid|libcamera-vid/.test(a)))).toEqual([]);
    const ffmpegs = children.filter((c) => c.argv.some((a) => a.endsWith('ffmpeg')));
    expect(ffmpegs.map((c) => c.argv.join(' '))).toEqual([
      expect.stringContaining('-f h264 -framerate 15 -i pipe:0'),
    ]);
    for (const c of ffmpegs) expect(c.argv.join(' ')).not.toMatch(/libx264|h264_\w+|-c:v/);
  });

  it('serves main at its size and sub at its own over RTSP, TCP and UDP', async () => {
    for (const transport of ['tcp', 'udp'] as const) {
      for (const [path, width, height] of [
        ['/main', 320, 180],
        ['/sub', 160, 90],
      ] as const) {
        const streams = await ffprobe(cam.url(path), transport);
        expect(streams.filter((s) => s.codec_type === 'video')).toEqual([
          expect.objectContaining({ codec_name: 'h264', width, height }),
        ]);
      }
    }
  });

  it('serves the sub pictures byte for byte as the camera encoded them', async () => {
    const got = await copiedPictures(cam.url('/sub'), 30);
    expectWrittenRun(got, await readFile(join(dir.path, 'lores.h264')));
  });

  it('plays the sub stream in GStreamer: rtph264depay byte for byte over TCP, decoded over UDP', async () => {
    const out = join(dir.path, 'gst-sub.h264');
    expect(await gstDepayToFile(cam.url('/sub'), 'h264', 30, out)).toContain('Got EOS from element');
    const got = splitAnnexB(await readFile(out))
      .filter(isPicture)
      .map((n) => createHash('md5').update(n).digest('hex'));
    expect(got.length).toBeGreaterThanOrEqual(29);
    expectWrittenRun(got, await readFile(join(dir.path, 'lores.h264')));
    expect(await gstDecodeUdp(cam.url('/sub'), 'h264', 20)).toContain('Got EOS from element');
  }, 70_000);

  it('restarts the camera program when it dies, and both streams come back', async () => {
    const [before] = await program();
    process.kill(before?.pid ?? 0, 'SIGKILL');
    const after = await until(async () => {
      const [p] = await program();
      return p && p.pid !== before?.pid ? p : undefined;
    }, 'a new camera program');
    expect(after.pid).not.toBe(before?.pid);
    for (const [path, width] of [
      ['/sub', 160],
      ['/main', 320],
    ] as const) {
      const streams = await until(async () => {
        const s = await ffprobe(cam.url(path), 'tcp').catch(() => []);
        return s.some((x) => x.width === width) ? s : undefined;
      }, `${path} after the restart`);
      expect(streams.filter((s) => s.codec_type === 'video')).toHaveLength(1);
    }
  }, 60_000);
});
