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

/** The arguments between the last `-i` before `marker` and `marker`, i.e. one output's options. */
function after(list: string[], value: string): string | undefined {
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
      name: 'file source: looped in real time, its own audio mapped optionally',
      overrides: {
        source: { kind: 'file', path: '/clips/porch.mp4' },
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
        expect(a).toContain('0:a:0?');
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
    expect(after(a, '-g')).toBe('50');
    expect(a).toContain('repeat-headers=1:aud=1');
    expect(a.join(' ')).toContain('[va]fps=5,scale=320:180,format=gray[vana]');
    expect(a.join(' ')).toContain('[vs]fps=10,scale=640:360[vsub]');
    expect(a).toContain('-nostats');
    expect(a).not.toContain('-y');
  });
});
