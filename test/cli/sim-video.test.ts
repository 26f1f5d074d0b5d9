import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from '../helpers/daemon.js';
import { decodeFrames, ffprobe, SMALL_STREAMS } from '../helpers/media.js';
import { ffmpeg } from '../helpers/media-fixtures.js';

/** Two seconds each: a decode of five seconds shows the file looped. */
const CLIP_SECONDS = 2;

/** The simulator's RTSP URL with the label-code credentials (used only if the server asks). */
function withCredentials(url: string, code: string, path: string): string {
  const parsed = new URL(url);
  if (!parsed.username) parsed.username = 'admin';
  parsed.password = code;
  parsed.pathname = path;
  return parsed.toString();
}

describe('ipcam-agent sim --video', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-video-'));
    const seconds = ['-t', String(CLIP_SECONDS)];
    await Promise.all([
      // A screen capture: H.264 in MP4, no audio track at all (the case that crash-looped).
      ffmpeg([
        ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', ...seconds],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file('noaudio.mp4')],
      ]),
      // Matroska with Vorbis sound and an odd picture size in 4:4:4 (the encoder needs even 4:2:0).
      ffmpeg([
        ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=f=300'],
        ...['-vf', 'scale=321:181,format=yuv444p', ...seconds, '-c:v', 'libx264', '-preset', 'ultrafast'],
        ...['-c:a', 'libvorbis', file('audio.mkv')],
      ]),
      // MPEG-TS with MPEG-2 video and MP2 sound, as a DVB or old camera recording.
      ffmpeg([
        ...['-f', 'lavfi', '-i', 'testsrc=size=352x288:rate=25', '-f', 'lavfi', '-i', 'sine=f=500'],
        ...[...seconds, '-c:v', 'mpeg2video', '-c:a', 'mp2', file('clip.ts')],
      ]),
      // A still picture (full-range yuvj420p: ffmpeg warns about it for every frame).
      ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=320x240', '-frames:v', '1', file('still.jpg')]),
      // Sound only: readable, but nothing to show.
      ffmpeg(['-f', 'lavfi', '-i', 'sine=f=440', ...seconds, file('tone.wav')]),
      // Bytes no demuxer takes for a video (deterministic, so the test cannot pass by luck).
      writeFile(file('garbage.mp4'), Buffer.from('this is not a video file\n'.repeat(400))),
    ]);
  }, 60_000);

  async function startSim(video: string): Promise<DaemonProcess> {
    const dataDir = await mkdtemp(join(tmpdir(), 'sim-video-data-'));
    // Small streams: the machine running the tests has other encoders to run.
    await writeFile(
      join(dataDir, 'state.json'),
      JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
    );
    return new DaemonProcess([
      'sim',
      ...['--data-dir', dataDir, '--broker-port', '0', '--ws-port', '0', '--console-port', '0'],
      ...['--rtsp-port', '0', '--softap-port', '0', '--video', video],
    ]);
  }

  const playable = [
    { name: 'noaudio.mp4', banner: /h264 320x240, no audio: silence, looped/ },
    { name: 'audio.mkv', banner: /h264 321x181, vorbis audio, looped/ },
    { name: 'clip.ts', banner: /mpeg2video 352x288, mp2 audio, looped/ },
    { name: 'still.jpg', banner: /mjpeg 320x240, no audio: silence, a still picture/ },
  ];
  const running: DaemonProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.map((sim) => sim.kill()));
  });

  for (const { name, banner } of playable) {
    it(`plays ${name} looped, with an audio track on RTSP whether or not the file has sound`, async () => {
      const sim = await startSim(file(name));
      running.push(sim);
      expect(await sim.banner('video')).toBe(file(name));
      expect(sim.stdout.lines.find((l) => l.trim().startsWith('video '))).toMatch(banner);
      const rtsp = await sim.banner('rtsp', 30_000);
      const code = await sim.banner('label code');

      const streams = await ffprobe(withCredentials(rtsp, code, '/main'), 'tcp');
      expect(streams.map((s) => [s.codec_type, s.codec_name]).sort()).toEqual([
        ['audio', 'aac'],
        ['video', 'h264'],
      ]);
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 640, height: 360 });

      // More than two lengths of the file from the sub stream (10 fps), by the same ffmpeg: looped,
      // not ended and restarted. Pictures only: on a loaded machine the client has logged audio DTS
      // going backwards after a loop (a timing flaw of the audio path, left for the media work).
      const frames = SMALL_STREAMS.sub.fps * CLIP_SECONDS * 2.5;
      const decoded = await decodeFrames(withCredentials(rtsp, code, '/sub'), frames, 'tcp', {
        videoOnly: true,
      });
      expect(decoded).toEqual({ code: 0, stderr: '' });
      const captures = sim.stdout
        .records()
        .filter((r) => r.msg === 'starting child process' && r.process === 'ffmpeg-capture');
      expect(captures).toHaveLength(1);
      expect(sim.stdout.records().filter((r) => r.msg === 'child process exited')).toEqual([]);
      // ffmpeg's per-frame warnings (the JPEG's colour range) are throttled, not one log line a frame.
      expect(sim.stdout.records().filter((r) => r.msg === 'ffmpeg says').length).toBeLessThanOrEqual(20);
      expect(await sim.kill('SIGINT')).toEqual({ code: 0, signal: null });
    });
  }

  const unreadable = [
    { name: 'garbage.mp4', reason: 'cannot be read as a video (Invalid data found when processing input)' },
    { name: 'missing.mp4', reason: 'cannot be read as a video (No such file or directory)' },
    { name: 'tone.wav', reason: 'has no video stream' },
  ];
  for (const { name, reason } of unreadable) {
    it(`refuses ${name} with one line on stderr and a non-zero exit, starting nothing`, async () => {
      const sim = await startSim(file(name));
      const { code } = await sim.exited;
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(sim.stderr.lines).toEqual([`ipcam-agent: --video ${file(name)}: ${reason}`]);
      expect(sim.stdout.lines).toEqual([]);
    });
  }
});
