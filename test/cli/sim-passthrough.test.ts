import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NalType, nalType, splitAnnexB } from '../../src/media/h264.js';
import { ensureSimKey, SIM_CLOUD_KEY } from '../../src/sim/keys.js';
import { signViewerToken } from '../../src/webrtc/token.js';
import { AppPeer } from '../helpers/app-peer.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { decodeFrames, ffprobe, SMALL_STREAMS } from '../helpers/media.js';
import { ffmpeg } from '../helpers/media-fixtures.js';
import { Observer } from '../helpers/observer.js';
import { childProcesses } from '../helpers/proc.js';

/** The simulator's RTSP URL with the label-code credentials. */
function withCredentials(url: string, code: string, path: string): string {
  const parsed = new URL(url);
  if (!parsed.username) parsed.username = 'admin';
  parsed.password = code;
  parsed.pathname = path;
  return parsed.toString();
}

describe('ipcam-agent sim --video <file> --passthrough', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  const running: DaemonProcess[] = [];
  const dataDirs = new Map<string, string>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-passthrough-'));
    const box = "color=c=white:size=40x40:rate=25[b];[0][b]overlay=x='mod(t*120,320)':y=100";
    await Promise.all([
      // A white box crossing a still background: motion for the analysis frames to see.
      ffmpeg([
        ...['-f', 'lavfi', '-i', 'color=c=gray:size=320x240:rate=25', '-t', '3'],
        ...['-filter_complex', box, '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-bf', '0'],
        ...['-pix_fmt', 'yuv420p', file('box.mp4')],
      ]),
      ffmpeg([
        ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '1'],
        ...['-c:v', 'mpeg2video', file('mpeg2.ts')],
      ]),
      // The same box in H.265, as an MP4 from a camera that records HEVC.
      ffmpeg([
        ...['-f', 'lavfi', '-i', 'color=c=gray:size=320x240:rate=25', '-t', '3'],
        ...['-filter_complex', box, '-c:v', 'libx265', '-preset', 'ultrafast', '-tag:v', 'hvc1'],
        ...[
          '-x265-params',
          'log-level=error:keyint=25:bframes=0',
          '-pix_fmt',
          'yuv420p',
          file('box-h265.mp4'),
        ],
      ]),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(running.map((sim) => sim.kill()));
  });

  async function startSim(video: string): Promise<DaemonProcess> {
    const dataDir = await mkdtemp(join(tmpdir(), 'sim-passthrough-data-'));
    await writeFile(
      join(dataDir, 'state.json'),
      JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
    );
    dataDirs.set(video, dataDir);
    const sim = new DaemonProcess([
      'sim',
      ...['--data-dir', dataDir, '--broker-port', '0', '--ws-port', '0', '--console-port', '0'],
      ...['--rtsp-port', '0', '--softap-port', '0', '--video', video, '--passthrough'],
    ]);
    running.push(sim);
    return sim;
  }

  it("serves the file's H.264 as it is on main and sub, and decodes it for analysis", async () => {
    const sim = await startSim(file('box.mp4'));
    const rtsp = await sim.banner('rtsp', 30_000);
    const code = await sim.banner('label code');
    expect(sim.stdout.lines.find((l) => l.trim().startsWith('passthrough '))).toMatch(/no re-encode/);
    for (const path of ['/main', '/sub']) {
      const streams = await ffprobe(withCredentials(rtsp, code, path), 'tcp');
      // The file's own size, not the stream profile's (nothing scales or encodes it).
      expect(streams).toEqual([
        expect.objectContaining({ codec_type: 'video', codec_name: 'h264', width: 320, height: 240 }),
      ]);
    }
    // More than one length of the file: looped.
    expect(await decodeFrames(withCredentials(rtsp, code, '/main'), 100, 'tcp')).toEqual({
      code: 0,
      stderr: '',
    });
    await sim.waitForLog('analysis decoder started');
    await sim.waitForLog('analysis frames flowing');

    // Snapshots come from the passed-through stream like from any other.
    const observer = await Observer.connect(await sim.banner('mqtt'), ['cam/v1/+/evt/error']);
    try {
      const cmd = `cam/v1/${await sim.banner('device id')}/cmd/snapshot`;
      let answer = await observer.request(cmd, {});
      for (let i = 0; answer.ok !== true && i < 20; i += 1) {
        await new Promise((r) => setTimeout(r, 500));
        answer = await observer.request(cmd, {});
      }
      expect(answer.ok).toBe(true);
    } catch (err) {
      await observer.close();
      throw err;
    }

    const children = await childProcesses(sim.child.pid ?? 0);
    const writers = children.filter((c) => c.argv.join(' ').includes('-c:v copy -f h264 -'));
    expect(writers).toHaveLength(2);
    for (const c of children) expect(c.argv.join(' ')).not.toMatch(/libx264|libx265|h264_v4l2m2m|h264_rkmpp/);
    expect(sim.stdout.records().filter((r) => r.msg === 'child process exited')).toEqual([]);

    // The "encoder" dies: it is restarted with backoff and a playing client goes on receiving pictures.
    const client = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-i',
        withCredentials(rtsp, code, '/main'),
        '-c',
        'copy',
        '-f',
        'h264',
        'pipe:1',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const chunks: Buffer[] = [];
    client.stdout.on('data', (c: Buffer) => chunks.push(c));
    const pictures = () =>
      splitAnnexB(Buffer.concat(chunks)).filter(
        (n) => nalType(n) === NalType.SLICE || nalType(n) === NalType.IDR,
      ).length;
    try {
      await until(() => pictures() >= 25);
      const before = pictures();
      // The main stream's writer was started first.
      const main = Math.min(...writers.map((w) => w.pid));
      process.kill(main, 'SIGKILL');
      await sim.waitForLog('child process exited');
      expect(sim.stdout.records().find((r) => r.msg === 'child process exited')).toMatchObject({
        stream: 'main',
        signal: 'SIGKILL',
      });
      await until(() => pictures() >= before + 50);
      expect(client.exitCode).toBeNull();
      // Reported to the cloud like a crash of the capture ffmpeg.
      const error = await observer.waitFor((m) => m.topic.endsWith('/evt/error'), 'evt/error');
      expect(error.json()).toMatchObject({ code: 'capture_exited', signal: 'SIGKILL' });
    } finally {
      client.kill('SIGTERM');
      await observer.close();
    }
    expect(await sim.kill('SIGINT')).toEqual({ code: 0, signal: null });
  }, 90_000);

  it("serves an H.265 file's main stream as it is, and an H.264 sub stream that WebRTC viewers get", async () => {
    const sim = await startSim(file('box-h265.mp4'));
    const rtsp = await sim.banner('rtsp', 30_000);
    const code = await sim.banner('label code');
    expect(sim.stdout.lines.find((l) => l.trim().startsWith('passthrough '))).toMatch(
      /H\.265 main served as it is .*sub: H\.264/,
    );
    expect(await ffprobe(withCredentials(rtsp, code, '/main'), 'tcp')).toEqual([
      expect.objectContaining({ codec_type: 'video', codec_name: 'hevc', width: 320, height: 240 }),
    ]);
    expect(await ffprobe(withCredentials(rtsp, code, '/sub'), 'tcp')).toEqual([
      expect.objectContaining({ codec_type: 'video', codec_name: 'h264', width: 320, height: 240 }),
    ]);
    expect(await decodeFrames(withCredentials(rtsp, code, '/main'), 100, 'udp')).toEqual({
      code: 0,
      stderr: '',
    });
    await sim.waitForLog('analysis frames flowing');

    // The main stream is copied; the one encoder is the sub stream's, standing for the SoC's second channel.
    const children = await childProcesses(sim.child.pid ?? 0);
    const lines = children.map((c) => c.argv.join(' '));
    expect(lines.filter((l) => l.includes('-c:v copy -f hevc -'))).toHaveLength(1);
    expect(lines.filter((l) => /libx264|libx265|h264_v4l2m2m|h264_rkmpp/.test(l))).toEqual([
      expect.stringMatching(/-c:v libx264 .*-f h264 -$/),
    ]);

    const observer = await Observer.connect(await sim.banner('mqtt'), ['cam/v1/+/webrtc/#']);
    const deviceId = await sim.banner('device id');
    const { privateKey } = await ensureSimKey(dataDirs.get(file('box-h265.mp4')) ?? '', SIM_CLOUD_KEY);
    const app = new AppPeer(observer, deviceId);
    try {
      const answer = await app.offer(
        signViewerToken({ sub: deviceId, rights: ['live'], ttlSeconds: 300 }, privateKey),
      );
      expect(answer).toMatchObject({ video: { stream: 'sub', codec: 'h264', reason: 'main_not_h264' } });
      await app.videoUntil(50, 60_000);
    } finally {
      await app.bye();
      await app.close();
      await observer.close();
    }
    expect(await sim.kill('SIGINT')).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('refuses a file whose video is neither H.264 nor H.265 with one line and a non-zero exit', async () => {
    const sim = await startSim(file('mpeg2.ts'));
    const { code } = await sim.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(sim.stderr.lines).toEqual([
      `ipcam-agent: --passthrough: ${file('mpeg2.ts')} has mpeg2video video; only H.264 and H.265 are passed through (drop --passthrough to re-encode it)`,
    ]);
    expect(sim.stdout.lines).toEqual([]);
  });
});

async function until(test: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out waiting for pictures');
    await new Promise((r) => setTimeout(r, 100));
  }
}
