import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NalType, nalType, splitAnnexB } from '../../src/media/h264.js';
import { accessUnitsAt, copyClient, FifoWriter, until } from '../helpers/fifo-writer.js';
import { gstDecodeUdp, gstDepayToFile } from '../helpers/gst.js';
import { decodeFrames, ffprobe, type MediaDevice, startMediaDevice } from '../helpers/media.js';
import { ffmpeg, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { childProcesses } from '../helpers/proc.js';

const FPS = 25;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
/** Slices (the pictures): what must reach the client byte for byte. */
const isPicture = (n: Buffer) => nalType(n) === NalType.SLICE || nalType(n) === NalType.IDR;

describe('pipe source: H.264 from a FIFO, passed through', () => {
  let broker: Mosquitto;
  let cam: MediaDevice;
  let dir: TempDir;
  let writer: FifoWriter;
  /** md5 of each picture NAL unit of the input, in order. */
  let inputPictures: string[];

  beforeAll(async () => {
    dir = await tempDir();
    const input = join(dir.path, 'camera.h264');
    // What a hardware encoder gives: Annex-B, AUDs, no B-frames, SPS/PPS at each keyframe.
    await ffmpeg([
      ...['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=${FPS}`, '-t', '4'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-bf', '0', '-x264-params', 'aud=1'],
      ...['-f', 'h264', input],
    ]);
    const stream = await readFile(input);
    const nalus = splitAnnexB(stream);
    inputPictures = nalus.filter(isPicture).map(md5);
    // Access units with their AUDs, as written to the FIFO.
    const aus = accessUnitsAt(nalus, (n) => nalType(n) === NalType.AUD);
    const fifo = join(dir.path, 'main.fifo');
    await promisify(execFile)('mkfifo', [fifo]);
    broker = await Mosquitto.start();
    cam = await startMediaDevice(broker.url, {
      media: { source: { kind: 'pipe', main: { fifo, fps: FPS } } },
    });
    await cam.daemon.waitForLog('pipe input open');
    writer = new FifoWriter(aus, FPS);
    writer.start(fifo);
  }, 60_000);

  afterAll(async () => {
    await writer?.stop();
    await cam?.daemon.kill();
    await broker?.stop();
    await dir?.remove();
  });

  it('ffprobe over RTSP TCP and UDP sees the H.264 stream on main and sub (sub is the main stream)', async () => {
    for (const [path, transport] of [
      ['/main', 'tcp'],
      ['/sub', 'tcp'],
      ['/main', 'udp'],
    ] as const) {
      const streams = await ffprobe(cam.url(path), transport);
      expect(streams.filter((s) => s.codec_type === 'video')).toEqual([
        expect.objectContaining({ codec_name: 'h264', width: 320, height: 180 }),
      ]);
      // Audio is not part of the pipe source yet: no audio track.
      expect(streams.filter((s) => s.codec_type === 'audio')).toEqual([]);
    }
  });

  it('ffmpeg receives the pictures byte for byte as the encoder wrote them', async () => {
    const client = copyClient(cam.url('/main'));
    try {
      await until(() => splitAnnexB(client.bytes()).filter(isPicture).length >= 60, '60 pictures');
    } finally {
      client.child.kill('SIGTERM');
    }
    const got = splitAnnexB(client.bytes()).filter(isPicture).map(md5);
    // In order, continuing the input (looped) from wherever the client joined.
    const first = inputPictures.indexOf(got[0] ?? '');
    expect(first).toBeGreaterThanOrEqual(0);
    const expected = got.map((_, i) => inputPictures[(first + i) % inputPictures.length]);
    expect(got.slice(0, -1)).toEqual(expected.slice(0, -1));
  });

  it("GStreamer's rtph264depay receives the pictures byte for byte over TCP and decodes them over UDP", async () => {
    const out = join(dir.path, 'gst.h264');
    const stdout = await gstDepayToFile(cam.url('/main'), 'h264', 60, out);
    expect(stdout).toContain('Got EOS from element');
    const got = splitAnnexB(await readFile(out))
      .filter(isPicture)
      .map(md5);
    expect(got.length).toBeGreaterThanOrEqual(59);
    const first = inputPictures.indexOf(got[0] ?? '');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(got).toEqual(got.map((_, i) => inputPictures[(first + i) % inputPictures.length]));
    const udp = await gstDecodeUdp(cam.url('/main'), 'h264', 40);
    expect(udp).toContain('Got EOS from element');
  }, 70_000);

  it('runs no video encoder: one ffmpeg decodes the sub stream for analysis', async () => {
    const pid = cam.daemon.child.pid ?? 0;
    await cam.daemon.waitForLog('analysis decoder started');
    const children = await childProcesses(pid);
    const ffmpegs = children.filter((c) => c.argv.some((a) => a.endsWith('ffmpeg')));
    // The other may be an alarm's snapshot being decoded (standby decoders are off on an encoded source,
    // test/media/encoded-snapshots.test.ts): it makes one JPEG still and exits.
    const snapshot = ffmpegs.filter((c) => c.argv.join(' ').includes('-frames:v 1 -q:v 3 -f mjpeg'));
    expect(snapshot.length).toBeLessThanOrEqual(1);
    const others = ffmpegs.filter((c) => !snapshot.includes(c));
    expect(others).toHaveLength(1);
    const argv = others[0]?.argv.join(' ') ?? '';
    expect(argv).toContain('-f h264 -framerate 25 -i pipe:0');
    expect(argv).toContain('-pix_fmt gray -f rawvideo pipe:1');
    for (const c of children) {
      expect(c.argv.join(' ')).not.toMatch(/libx264|libx265|h264_\w+|hevc_\w+|-c:v|-vcodec|-codec/);
    }
  });

  it('gives what queued while the daemon did not read for 2.5 s whole-frame timestamps: no DTS error in a decoder', async () => {
    // A daemon starved of CPU: the encoder goes on writing, and what it wrote meanwhile is read in a
    // rush once the daemon runs. The clock once jumped at the first of those frames and gave the rest
    // half steps, which a client decoding at 1/fps saw as equal (24 "non monotonically increasing dts"
    // lines). A small stream, so that the daemon is not the one falling behind once it runs again.
    const pid = cam.daemon.child.pid ?? 0;
    process.kill(pid, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    process.kill(pid, 'SIGCONT');
    await writer.drained();
    const result = await decodeFrames(cam.url('/main'), 75, 'tcp');
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/non monotonically increasing dts/);
  });

  it('a playing client survives the writer stopping and starting again', async () => {
    const client = copyClient(cam.url('/main'));
    const pictures = () => splitAnnexB(client.bytes()).filter(isPicture).length;
    try {
      await until(() => pictures() >= 25, 'pictures before the stop');
      await writer.stop();
      await new Promise((r) => setTimeout(r, 2000));
      const before = pictures();
      writer.start(join(dir.path, 'main.fifo'));
      await until(() => pictures() >= before + 50, 'pictures after the restart');
      expect(client.child.exitCode).toBeNull();
      // What came after the restart is still the encoder's own pictures.
      const got = splitAnnexB(client.bytes()).filter(isPicture).map(md5).slice(before);
      expect(got.every((h) => inputPictures.includes(h))).toBe(true);
    } finally {
      client.child.kill('SIGTERM');
    }
  }, 30_000);
});
