import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { MediaConfig } from '../../src/media/config.js';
import { buildCaptureArgs, type CaptureArgs } from '../../src/media/ffmpeg-args.js';

const defaults = Value.Default(MediaConfig, {}) as MediaConfig;
const profiles = {
  main: { width: 1280, height: 720, fps: 25, bitrateKbps: 2000 },
  sub: { width: 640, height: 360, fps: 10, bitrateKbps: 400 },
};

function args(overrides: Partial<CaptureArgs> = {}): string[] {
  return buildCaptureArgs({
    source: defaults.source,
    audio: defaults.audio,
    encoder: defaults.encoder,
    analysis: defaults.analysis,
    gopSeconds: 2,
    ...profiles,
    ...overrides,
  });
}

/** The argument right after the first `value` (an option's value). */
function valueAfter(list: string[], value: string): string | undefined {
  const at = list.indexOf(value);
  return at >= 0 ? list[at + 1] : undefined;
}

describe('buildCaptureArgs', () => {
  const table: { name: string; overrides: Partial<CaptureArgs>; expect: (a: string[]) => void }[] = [
    {
      name: 'test source: lavfi pattern and tone, each input paced by its own -re',
      overrides: {},
      expect: (a) => {
        expect(a.filter((x) => x === '-re')).toHaveLength(2);
        expect(a[a.indexOf('-re') + 1]).toBe('-f');
        expect(a.join(' ')).toContain('smptehdbars=size=1280x720:rate=25');
        expect(a.join(' ')).toContain("drawtext=text='%{localtime}'");
        expect(a.join(' ')).toContain('sine=frequency=440');
      },
    },
    {
      name: 'file source with sound: looped in real time, its picture and sound mapped by index',
      overrides: {
        source: { kind: 'file', path: '/clips/porch.mp4' },
        file: { video: 1, audio: 2 },
        audio: { ...defaults.audio, source: 'source' },
      },
      expect: (a) => {
        expect(a.slice(a.indexOf('-stream_loop') - 1, a.indexOf('-stream_loop') + 4)).toEqual([
          '-re',
          '-stream_loop',
          '-1',
          '-i',
          '/clips/porch.mp4',
        ]);
        expect(a.filter((x) => x === '-i')).toHaveLength(1);
        expect(valueAfter(a, '-filter_complex')).toMatch(/^\[0:1\]fps=25,/);
        // The main stream and the PCMU output both take the file's sound; nothing optional (`?`).
        expect(a.filter((x) => x === '0:2')).toHaveLength(2);
        expect(a.join(' ')).not.toContain('?');
      },
    },
    {
      name: 'file source without sound: silence from anullsrc, so every audio output has a stream',
      overrides: {
        source: { kind: 'file', path: '/clips/screen.mp4' },
        file: { video: 0, audio: undefined },
        audio: { ...defaults.audio, source: 'source' },
      },
      expect: (a) => {
        expect(a.filter((x) => x === '-i')).toHaveLength(2);
        expect(a).toContain('anullsrc=channel_layout=mono:sample_rate=16000');
        expect(a[a.indexOf('anullsrc=channel_layout=mono:sample_rate=16000') - 4]).toBe('-re');
        expect(a.filter((x) => x === '1:a:0')).toHaveLength(2);
        expect(valueAfter(a, '-filter_complex')).toMatch(/^\[0:0\]fps=/);
      },
    },
    {
      name: 'a still picture: looped by the image demuxer (-stream_loop repeats its one frame once)',
      overrides: {
        source: { kind: 'file', path: '/pictures/porch.jpg' },
        file: { video: 0, audio: undefined, still: true },
        audio: { ...defaults.audio, source: 'source' },
      },
      expect: (a) => {
        expect(a.slice(0, a.indexOf('/pictures/porch.jpg') + 1).slice(-5)).toEqual([
          '-re',
          '-loop',
          '1',
          '-i',
          '/pictures/porch.jpg',
        ]);
        expect(a).not.toContain('-stream_loop');
      },
    },
    {
      name: 'file source not probed: the first video stream and silence, never a map that may be empty',
      overrides: {
        source: { kind: 'file', path: 'clips/a:b.mkv' },
        audio: { ...defaults.audio, source: 'source' },
      },
      expect: (a) => {
        expect(a).toContain('file:clips/a:b.mkv');
        expect(valueAfter(a, '-filter_complex')).toMatch(/^\[0:v:0\]fps=/);
        expect(a.filter((x) => x === '1:a:0')).toHaveLength(2);
        expect(a.join(' ')).not.toContain('?');
      },
    },
    {
      name: 'odd sizes (from an old state file) are rounded down to even ones libx264 takes',
      overrides: {
        main: { width: 1281, height: 721, fps: 25, bitrateKbps: 2000 },
        sub: { width: 641, height: 361, fps: 10, bitrateKbps: 400 },
      },
      expect: (a) => {
        expect(valueAfter(a, '-filter_complex')).toContain('scale=1280:720,split=3');
        expect(valueAfter(a, '-filter_complex')).toContain('[vs]fps=10,scale=640:360[vsub]');
        expect(a.join(' ')).toContain('smptehdbars=size=1280x720');
      },
    },
    {
      name: 'V4L2 source: format, size and rate before the device, no -re (a camera paces itself)',
      overrides: {
        source: {
          kind: 'v4l2',
          device: '/dev/video2',
          inputFormat: 'mjpeg',
          width: 1920,
          height: 1080,
          fps: 30,
        },
        audio: { ...defaults.audio, source: 'alsa', device: 'hw:1,0' },
      },
      expect: (a) => {
        const i = a.indexOf('/dev/video2');
        expect(a.slice(i - 9, i + 1)).toEqual([
          '-f',
          'v4l2',
          '-input_format',
          'mjpeg',
          '-video_size',
          '1920x1080',
          '-framerate',
          '30',
          '-i',
          '/dev/video2',
        ]);
        expect(a.slice(a.indexOf('alsa') - 1, a.indexOf('hw:1,0') + 1)).toEqual([
          '-f',
          'alsa',
          '-ac',
          '1',
          '-ar',
          '16000',
          '-i',
          'hw:1,0',
        ]);
        expect(a).not.toContain('-re');
      },
    },
    {
      name: 'hardware encoder: no x264-only options',
      overrides: { encoder: 'h264_v4l2m2m' },
      expect: (a) => {
        expect(a.filter((x) => x === 'h264_v4l2m2m')).toHaveLength(2);
        expect(a).not.toContain('-x264-params');
        expect(a).not.toContain('-preset');
      },
    },
    {
      name: 'no audio: nothing mapped or encoded',
      overrides: { audio: { ...defaults.audio, codec: 'none' } },
      expect: (a) => {
        expect(a).not.toContain('-c:a');
        expect(a.join(' ')).not.toContain('sine=');
      },
    },
  ];

  for (const row of table) it(row.name, () => row.expect(args(row.overrides)));

  it('writes main, sub and analysis to fds 3, 4 and 5 with keyframes every GOP', () => {
    const a = args();
    expect(a.filter((x) => x.startsWith('pipe:'))).toEqual(['pipe:3', 'pipe:4', 'pipe:5', 'pipe:6']);
    expect(a.slice(a.indexOf('pcm_mulaw') - 1, a.indexOf('pipe:6') + 1)).toEqual([
      '-c:a',
      'pcm_mulaw',
      '-ar',
      '8000',
      '-ac',
      '1',
      '-f',
      'mulaw',
      'pipe:6',
    ]);
    expect(valueAfter(a, '-g')).toBe('50');
    expect(a).toContain('repeat-headers=1:aud=1');
    expect(a.join(' ')).toContain('[va]fps=15,scale=320:180,format=gray[vana]');
    expect(a.join(' ')).toContain('[vs]fps=10,scale=640:360[vsub]');
    expect(a).toContain('-nostats');
    expect(a).not.toContain('-y');
  });

  it('never asks for analysis frames above the picture rate (no duplicated frames to analyse)', () => {
    const slow = args({ main: { ...profiles.main, fps: 8 } });
    expect(slow.join(' ')).toContain('[va]fps=8,scale=320:180,format=gray[vana]');
  });
});
