import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { findRpicam, rpicamArgs } from '../../src/media/rpicam.js';
import {
  rtspIngestArgs,
  rtspIngestInput,
  rtspIngestUrl,
  SOUND_PROBE_OPTIONS,
  soundProbeArgs,
} from '../../src/media/rtsp-ingest.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';

const source = (s: unknown) => () => parseConfig({ media: { source: s } });

describe('encoded source config: errors name the key', () => {
  it.each([
    [
      { kind: 'rtsp', url: 'rtsp://admin:hunter22@cam/live' },
      /^config: media\.source\.url: expected string matching/,
    ],
    [{ kind: 'rtsp', url: 'rtsp://cam/live', username: 'a:b' }, /^config: media\.source\.username:/],
    [
      { kind: 'rtsp', url: 'rtsp://cam/live', transport: 'http' },
      /^config: media\.source\.transport: expected one of "tcp", "udp"/,
    ],
    [
      { kind: 'rpicam', command: 'auto', main: { width: 321, height: 180, fps: 15, bitrateKbps: 300 } },
      /^config: media\.source\.main\.width: expected integer .*a multiple of 2, got 321/,
    ],
    [
      { kind: 'rpicam', command: '', main: { width: 320, height: 180, fps: 15, bitrateKbps: 300 } },
      /^config: media\.source\.command: expected string of at least 1 characters/,
    ],
    [
      { kind: 'pipe', main: { fifo: '/x' }, audio: { fifo: '/y', format: 'aac' } },
      /^config: media\.source\.audio\.format: expected one of "adts", "alaw", "mulaw", "s16le", got "aac"/,
    ],
    [
      { kind: 'v4l2', device: '/dev/video0', width: 640, height: 480, fps: 30, inputFormat: 'H 264' },
      /^config: media\.source\.inputFormat: expected string matching/,
    ],
  ])('%j', (bad, message) => {
    expect(source(bad)).toThrow(message);
  });

  it('never repeats a password written into the URL', () => {
    expect(source({ kind: 'rtsp', url: 'rtsp://admin:hunter22@cam/live' })).toThrow(/\[redacted\]/);
    expect(source({ kind: 'rtsp', url: 'rtsp://admin:hunter22@cam/live' })).not.toThrow(/hunter22/);
  });

  it('accepts the documented examples', () => {
    const rpicam = parseConfig({
      media: {
        source: {
          kind: 'rpicam',
          command: 'auto',
          main: { width: 1920, height: 1080, fps: 30, bitrateKbps: 4000 },
        },
        snapshot: { standby: false },
      },
    });
    expect(rpicam.media.source.kind).toBe('rpicam');
    const rtsp = parseConfig({
      media: {
        source: {
          kind: 'rtsp',
          url: 'rtsp://127.0.0.1:554/stream1',
          username: 'admin',
          passwordFile: '/etc/x',
        },
      },
    });
    expect(rtsp.media.source.kind).toBe('rtsp');
  });
});

describe('rpicam argv and program', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => dir?.remove());

  it('asks for hardware H.264 with inline headers on stdout, running until stopped', () => {
    expect(
      rpicamArgs(
        {
          main: { width: 1920, height: 1080, fps: 30, bitrateKbps: 4000 },
          camera: 1,
          extraArgs: ['--hflip'],
        },
        2,
      ),
    ).toEqual([
      ...[
        '-n',
        '-t',
        '0',
        '--codec',
        'h264',
        '--inline',
        '--flush',
        '--profile',
        'baseline',
        '--level',
        '4.1',
      ],
      ...[
        '--camera',
        '1',
        '--width',
        '1920',
        '--height',
        '1080',
        '--framerate',
        '30',
        '--bitrate',
        '4000000',
      ],
      ...['--intra', '60', '--hflip', '-o', '-'],
    ]);
  });

  it('auto prefers rpicam-vid, then libcamera-vid; a missing one is a config error naming the key', async () => {
    const a = join(dir.path, 'a');
    const b = join(dir.path, 'b');
    await mkdir(a);
    await mkdir(b);
    for (const [d, name] of [
      [a, 'libcamera-vid'],
      [b, 'rpicam-vid'],
      [b, 'libcamera-vid'],
    ] as const) {
      await writeFile(join(d, name), '#!/bin/true\n');
      await chmod(join(d, name), 0o755);
    }
    expect(await findRpicam('auto', `${a}:${b}`)).toBe(join(b, 'rpicam-vid'));
    expect(await findRpicam('auto', a)).toBe(join(a, 'libcamera-vid'));
    expect(await findRpicam('libcamera-vid', `${a}:${b}`)).toBe(join(a, 'libcamera-vid'));
    await expect(findRpicam('auto', join(dir.path, 'none'))).rejects.toThrow(
      'media.source.command: neither rpicam-vid nor libcamera-vid found on PATH',
    );
    await writeFile(join(dir.path, 'not-exec'), '');
    await expect(findRpicam(join(dir.path, 'not-exec'), '')).rejects.toThrow(/media\.source\.command/);
  });
});

describe('rtsp ingest argv', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => dir?.remove());

  it('copies the video over TCP to Annex-B on stdout, with the SDP parameter sets before keyframes', () => {
    expect(rtspIngestArgs({}, { url: 'rtsp://cam/live' })).toEqual([
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-fflags', 'nobuffer'],
      ...['-rtsp_transport', 'tcp', '-timeout', '10000000', '-i', 'rtsp://cam/live'],
      ...['-map', '0:v:0', '-c:v', 'copy', '-bsf:v', 'dump_extra=freq=keyframe', '-f', 'h264', 'pipe:1'],
    ]);
    expect(rtspIngestArgs({ transport: 'udp', timeoutSeconds: 3 }, { url: 'u' })).toContain('udp');
  });

  it('keeps a password out of argv: the URL with the credentials goes into a 0600 playlist', async () => {
    const file = join(dir.path, 'pw');
    await writeFile(file, "it's\n");
    const input = await rtspIngestInput(
      { username: 'admin', passwordFile: file, transport: 'udp', timeoutSeconds: 3 },
      'rtsp://cam:554/x',
      'main',
    );
    if (!('playlist' in input)) throw new Error('expected a playlist');
    const args = rtspIngestArgs({}, input);
    expect(args.join(' ')).not.toContain("it's");
    expect(args.join(' ')).not.toContain('it%27s');
    expect(args).toEqual(expect.arrayContaining(['-f', 'concat', '-i', input.playlist]));
    expect((await stat(input.playlist)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(input.playlist))).mode & 0o777).toBe(0o700);
    expect(await readFile(input.playlist, 'utf8')).toBe(
      "ffconcat version 1.0\nfile 'rtsp://admin:it%27s@cam:554/x'\noption rtsp_transport udp\noption timeout 3000000\n",
    );
    // Without credentials there is nothing to hide: the URL goes as it is.
    expect(await rtspIngestInput({}, 'rtsp://cam/x', 'main')).toEqual({ url: 'rtsp://cam/x' });
  });

  it('has the sound probe read the SDP without analysing the stream, through a playlist too', async () => {
    const noAnalysis = ['-analyzeduration', '1', '-probesize', '32'];
    const plain = soundProbeArgs({}, await rtspIngestInput({}, 'rtsp://cam/x', 'probe', SOUND_PROBE_OPTIONS));
    expect(plain.join(' ')).toContain(`${noAnalysis.join(' ')} -i rtsp://cam/x`);
    const file = join(dir.path, 'pw');
    await writeFile(file, 'secret\n');
    const input = await rtspIngestInput(
      { username: 'admin', passwordFile: file },
      'rtsp://cam/x',
      'probe',
      SOUND_PROBE_OPTIONS,
    );
    if (!('playlist' in input)) throw new Error('expected a playlist');
    // The concat demuxer opens the server with the playlist's options, and analyses with argv's.
    expect(await readFile(input.playlist, 'utf8')).toContain(
      'option timeout 10000000\noption analyzeduration 1\noption probesize 32\n',
    );
    expect(soundProbeArgs({}, input).join(' ')).toContain(`${noAnalysis.join(' ')} -f concat`);
  });

  it('puts the credentials from the password file into the URL, percent-encoded', async () => {
    const file = join(dir.path, 'pw');
    await writeFile(file, 'p@ss:w/rd\n');
    expect(await rtspIngestUrl({ username: 'ad min', passwordFile: file }, 'rtsp://cam:554/x')).toBe(
      'rtsp://ad%20min:p%40ss%3Aw%2Frd@cam:554/x',
    );
    expect(await rtspIngestUrl({}, 'rtsp://cam/x')).toBe('rtsp://cam/x');
    await expect(
      rtspIngestUrl({ username: 'a', passwordFile: join(dir.path, 'nope') }, 'rtsp://c/x'),
    ).rejects.toThrow(/^media\.source\.passwordFile: cannot read .* \(ENOENT\)$/);
  });
});
