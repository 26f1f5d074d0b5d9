import { execFile, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NalType, nalType, splitAnnexB } from '../../src/media/h264.js';
import { type MediaDevice, startMediaDevice } from '../helpers/media.js';
import { ffmpeg, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';

const FPS = 30;
const GOP = 60;
/** What a player must not log when it joins: timestamps going back, lost or broken pictures. */
const JOIN_TROUBLE = /dts|monoton|corrupt|error while decoding|missed \d+ packets|max delay/i;

/** The camera's encoder: access units into the FIFO at 30 fps (on schedule, not one per timer tick). */
class FifoWriter {
  readonly #aus: Buffer[];
  readonly #out: WriteStream;
  #timer: NodeJS.Timeout | undefined;
  #written = 0;

  constructor(aus: Buffer[], fifo: string) {
    this.#aus = aus;
    this.#out = createWriteStream(fifo);
    this.#out.on('error', () => undefined);
    this.resume();
  }

  /** Writes on schedule again, from the access unit after the last one written. */
  resume(): void {
    clearInterval(this.#timer);
    const began = performance.now() - (this.#written * 1000) / FPS;
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - began) * FPS) / 1000);
      for (; this.#written <= due; this.#written += 1) {
        this.#out.write(this.#aus[this.#written % this.#aus.length]);
      }
    }, 5);
  }

  /** Stops writing once `from` to `to` access units of a GOP are written: the encoder stalls there. */
  async pauseInGop(from: number, to: number): Promise<void> {
    await this.#at(from, to);
    clearInterval(this.#timer);
  }

  /** Resolves when the stream is 40-50 frames into its GOP: the cached GOP is then about 2 MB. */
  lateInGop(): Promise<void> {
    return this.#at(40, 50);
  }

  async #at(from: number, to: number): Promise<void> {
    for (;;) {
      const position = this.#written % GOP;
      if (position >= from && position <= to) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#out.end();
  }
}

function runTool(
  cmd: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('joining an 11 Mbit/s 1080p30 stream late in its GOP (2 MB cached)', () => {
  let broker: Mosquitto;
  let cam: MediaDevice;
  let dir: TempDir;
  let writer: FifoWriter;

  beforeAll(async () => {
    dir = await tempDir();
    const input = join(dir.path, 'camera.h264');
    // Noise keeps the bitrate up where a test pattern would compress to a fraction of it.
    await ffmpeg([
      ...['-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=${FPS},noise=alls=12:allf=t`, '-t', '4'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0'],
      ...['-g', String(GOP), '-keyint_min', String(GOP), '-sc_threshold', '0'],
      ...['-b:v', '11M', '-maxrate', '11M', '-bufsize', '11M', '-x264-params', 'aud=1'],
      ...['-f', 'h264', input],
    ]);
    const aus: Buffer[] = [];
    for (const n of splitAnnexB(await readFile(input))) {
      if (nalType(n) === NalType.AUD) aus.push(Buffer.alloc(0));
      aus[aus.length - 1] = Buffer.concat([aus.at(-1) ?? Buffer.alloc(0), Buffer.from([0, 0, 0, 1]), n]);
    }
    const fifo = join(dir.path, 'main.fifo');
    await promisify(execFile)('mkfifo', [fifo]);
    broker = await Mosquitto.start();
    cam = await startMediaDevice(broker.url, {
      media: { source: { kind: 'pipe', main: { fifo, fps: FPS } } },
    });
    await cam.daemon.waitForLog('pipe input open');
    writer = new FifoWriter(aus, fifo);
  }, 60_000);

  afterAll(async () => {
    writer?.stop();
    await cam?.daemon.kill();
    await broker?.stop();
    await dir?.remove();
  });

  it('a plain ffmpeg -i (UDP first) gets its first frame without timestamp warnings', async () => {
    await writer.lateInGop();
    const result = await runTool('ffmpeg', ['-i', cam.url('/main'), '-frames:v', '1', '-f', 'null', '-']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/frame=\s*1 /);
    // Not JOIN_TROUBLE: a UDP client starved of CPU (this shared machine, 1080p decoding) loses
    // datagrams from its socket buffer whatever the server does; GStreamer's server shows the same.
    expect(result.stderr).not.toMatch(/dts|monoton/i);
  });

  it('ffmpeg over TCP takes the burst and what follows with monotonic timestamps', async () => {
    await writer.lateInGop();
    // Copied, not decoded: whether this busy machine decodes 1080p30 in real time is not the question
    // (a client that cannot is rightly a slow client once the burst is over). The null muxer does not
    // check timestamps: the ffprobe test below is the one that compares them.
    const args = ['-v', 'warning', '-rtsp_transport', 'tcp', '-i', cam.url('/main'), '-c', 'copy'];
    const result = await runTool('ffmpeg', [...args, '-frames:v', '75', '-f', 'null', '-']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(JOIN_TROUBLE);
  });

  it('ffprobe over TCP and UDP sees packet timestamps only increasing', async () => {
    for (const transport of ['tcp', 'udp']) {
      await writer.lateInGop();
      const result = await runTool('ffprobe', [
        ...['-v', 'warning', '-rtsp_transport', transport, '-select_streams', 'v'],
        ...['-show_entries', 'packet=pts', '-read_intervals', '%+#60', '-of', 'json', cam.url('/main')],
      ]);
      expect(result.code).toBe(0);
      const packets = (JSON.parse(result.stdout) as { packets: { pts?: number }[] }).packets;
      expect(packets.length).toBeGreaterThanOrEqual(59);
      // ffmpeg's parser never knows the first packet's time on RTP input (pos is unset), whichever
      // server sends it (GStreamer's too): from the second on every one must be later than the last.
      const known = packets.slice(1).map((p) => p.pts ?? Number.NaN);
      expect(known.filter((pts) => !Number.isInteger(pts))).toEqual([]);
      const increasing = [...new Set(known)].sort((a, b) => a - b);
      expect({ transport, pts: known }).toEqual({ transport, pts: increasing });
    }
  });

  it('joined a few frames into a GOP, a client gets the GOP before it too, with timestamps only increasing', async () => {
    const plays = () => cam.daemon.stdout.lines.filter((l) => l.includes('"msg":"rtsp play"'));
    const burstOfLastPlay = () =>
      (JSON.parse(plays().at(-1) ?? '{}') as { burstFrames?: number }).burstFrames;
    // The writer stalls where the join should fall until the client has joined: where it falls then does
    // not depend on how long ffprobe takes to start on a loaded machine.
    const join = async (from: number, to: number, entries: string, packets: number) => {
      await writer.pauseInGop(from, to);
      const played = plays().length;
      const joined = cam.daemon.stdout.waitFor(
        (line) => line.includes('"msg":"rtsp play"') && plays().length > played,
        `a join ${from}-${to} frames into a GOP`,
      );
      const probing = runTool('ffprobe', [
        ...['-v', 'warning', '-rtsp_transport', 'tcp', '-select_streams', 'v'],
        ...['-show_entries', entries, '-read_intervals', `%+#${packets}`, '-of', 'json', cam.url('/main')],
      ]);
      await joined;
      writer.resume();
      const result = await probing;
      expect(result.code).toBe(0);
      return result;
    };
    // Late in the GOP the frames since its keyframe are enough: nothing older is sent.
    await join(40, 50, 'packet=pts', 5);
    const lateBurst = burstOfLastPlay() ?? 0;
    expect(lateBurst).toBeGreaterThanOrEqual(35);
    expect(lateBurst).toBeLessThan(GOP);

    // A few frames in, ffmpeg would wait for 20 of them live: the whole GOP before is sent first.
    const early = await join(4, 10, 'packet=pts,flags', 80);
    const earlyBurst = burstOfLastPlay() ?? 0;
    expect(earlyBurst).toBeGreaterThan(GOP);
    expect(earlyBurst).toBeLessThan(GOP + 25);
    const packets = (JSON.parse(early.stdout) as { packets: { pts?: number; flags: string }[] }).packets;
    // It starts at the earlier keyframe, and the next one follows a whole GOP later.
    expect(packets[0]?.flags).toMatch(/^K/);
    expect(packets.findIndex((p, i) => i > 0 && p.flags.startsWith('K'))).toBe(GOP);
    const known = packets.slice(1).map((p) => p.pts ?? Number.NaN);
    const increasing = [...new Set(known)].sort((a, b) => a - b);
    expect(known).toEqual(increasing);
  });

  it('the join bursts did not set off the slow-client policy', () => {
    const lines = cam.daemon.stdout.lines;
    expect(lines.filter((l) => l.includes('rtsp client falling behind'))).toEqual([]);
    expect(lines.filter((l) => l.includes('did not take the cached GOP'))).toEqual([]);
  });
});
