import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gstUntilEos } from '../helpers/gst.js';
import {
  decodeFrames,
  ffprobe,
  type MediaDevice,
  SMALL_STREAMS,
  startMediaDevice,
} from '../helpers/media.js';
import { Mosquitto } from '../helpers/mosquitto.js';

describe('RTSP with real clients', () => {
  let broker: Mosquitto;
  let cam: MediaDevice;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    cam = await startMediaDevice(broker.url);
  });
  afterAll(async () => {
    await cam.daemon.kill();
    await broker.stop();
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`ffprobe over ${transport} sees H.264 at the configured sizes and AAC audio`, async () => {
      for (const [path, size] of [
        ['/main', SMALL_STREAMS.main],
        ['/sub', SMALL_STREAMS.sub],
      ] as const) {
        const streams = await ffprobe(cam.url(path), transport);
        const video = streams.find((s) => s.codec_type === 'video');
        expect(video).toMatchObject({ codec_name: 'h264', width: size.width, height: size.height });
        expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({
          codec_name: 'aac',
          sample_rate: '16000',
        });
      }
    });
  }

  it('ffmpeg decodes 60 frames over TCP with no decode errors', async () => {
    const { code, stderr } = await decodeFrames(cam.url('/main'), 60);
    expect(stderr.trim()).toBe('');
    expect(code).toBe(0);
  });

  it('ffmpeg decodes over UDP', async () => {
    const { code, stderr } = await decodeFrames(cam.url('/sub'), 30, 'udp');
    expect(stderr).not.toMatch(/error|corrupt|non-existing/i);
    expect(code).toBe(0);
  });

  it('three ffmpeg viewers and GStreamer play over UDP at once, with no packet lost', async () => {
    // One send serves every UDP viewer of a stream (docs/rtsp.md, "UDP: a frame to every viewer"):
    // each must still get its own sequence numbers, timestamps and SSRC, and nothing lost or mixed up.
    // At warning level ffmpeg reports lost packets ("RTP: missed") as well as decode errors.
    const decode = (path: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          'ffmpeg',
          [
            ...['-nostdin', '-v', 'warning', '-rtsp_transport', 'udp', '-i', cam.url(path)],
            ...['-frames:v', '100', '-f', 'null', '-'],
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        child.once('close', (code) => resolve({ code, stderr }));
      });
    const gst = gstUntilEos(
      [
        ...['rtspsrc', `location=${cam.url('/main')}`, 'protocols=udp', '!', 'rtph264depay', '!'],
        ...['h264parse', '!', 'avdec_h264', '!', 'identity', 'eos-after=100', '!', 'fakesink'],
      ],
      60_000,
    );
    const viewers = await Promise.all([decode('/main'), decode('/main'), decode('/main'), decode('/sub')]);
    for (const { code, stderr } of viewers) {
      expect(stderr).not.toMatch(/missed|error|corrupt|non-existing/i);
      expect(code).toBe(0);
    }
    expect(await gst).toContain('Got EOS from element');
    expect(cam.daemon.stdout.lines.some((l) => l.includes('"send":"sendmmsg"'))).toBe(true);
  });

  it('GStreamer rtspsrc plays it', async () => {
    const pipeline = [
      'rtspsrc',
      `location=${cam.url('/main')}`,
      'protocols=tcp',
      '!',
      'rtph264depay',
      '!',
      'h264parse',
      '!',
      'avdec_h264',
      '!',
      'identity',
      'eos-after=30',
      '!',
      'fakesink',
    ];
    const stdout = await gstUntilEos(pipeline, 20_000).catch((err: unknown) => {
      const server = cam.daemon.stdout.lines.filter((l) => /rtsp/.test(l)).slice(-15);
      throw new Error(`${String(err)}\nthe server's rtsp log:\n${server.join('\n')}`);
    });
    expect(stdout).toContain('Got EOS from element');
  });

  it('answers OPTIONS with the methods it serves and refuses unknown paths', async () => {
    const { stderr } = await decodeFrames(cam.url('/nope'), 1).then((r) => r);
    expect(stderr).toMatch(/404/);
  });

  it('keeps serving clients through an ffmpeg crash', async () => {
    const client = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-i',
        cam.url('/main'),
        '-frames:v',
        '120',
        '-f',
        'framemd5',
        '-',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let frames = 0;
    let killed = false;
    const pidLine = await cam.daemon.stdout.waitFor(
      (l) => l.includes('"msg":"child process running"'),
      'ffmpeg pid',
    );
    const pid = (JSON.parse(pidLine) as { pid: number }).pid;
    const done = new Promise<number | null>((resolve) => client.once('close', resolve));
    createInterface({ input: client.stdout }).on('line', (line) => {
      // framemd5 lines are `stream_index, dts, pts, duration, size, hash`; stream 0 is the video.
      if (line.startsWith('0,')) frames += 1;
      if (!killed && frames >= 20) {
        killed = true;
        process.kill(pid, 'SIGKILL');
      }
    });
    expect(await done).toBe(0);
    expect(frames).toBe(120);
    expect(killed).toBe(true);
    await cam.daemon.stdout.waitFor(
      (l) => l.includes('"msg":"child process exited"') && l.includes('SIGKILL'),
      'exit logged',
    );
  });
});
