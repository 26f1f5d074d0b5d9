import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NalType, nalType, splitAnnexB } from '../../src/media/h264.js';
import { HevcNal, hevcNalType, isHevcSlice } from '../../src/media/h265.js';
import { signViewerToken } from '../../src/webrtc/token.js';
import { AppPeer, toAnnexB } from '../helpers/app-peer.js';
import { accessUnitsAt, copyClient, FifoWriter, until } from '../helpers/fifo-writer.js';
import { gstDecodeUdp, gstDepayToFile } from '../helpers/gst.js';
import { decodeFrames, ffprobe, type MediaDevice, startMediaDevice } from '../helpers/media.js';
import { ffmpeg, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';
import { childProcesses } from '../helpers/proc.js';
import { RawRtspClient } from '../helpers/raw-rtsp.js';

const FPS = 25;
const cloud = generateKeyPairSync('ed25519');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const hevcPictures = (stream: Buffer) => splitAnnexB(stream).filter((n) => isHevcSlice(hevcNalType(n)));
const h264Pictures = (stream: Buffer) =>
  splitAnnexB(stream).filter((n) => nalType(n) === NalType.SLICE || nalType(n) === NalType.IDR);

/** `got` is a run of `input` (looped), from wherever the client joined; the last may be cut short. */
function expectContinuous(got: string[], input: string[]): void {
  const first = input.indexOf(got[0] ?? '');
  expect(first).toBeGreaterThanOrEqual(0);
  const expected = got.map((_, i) => input[(first + i) % input.length]);
  expect(got.slice(0, -1)).toEqual(expected.slice(0, -1));
}

/**
 * A camera whose SoC gives H.265 on the main stream and H.264 on the sub stream, both written to
 * FIFOs: what libx265/libx264 made once at test time stands for the hardware encoders.
 */
describe('pipe source: H.265 main and H.264 sub from FIFOs, passed through', () => {
  let broker: Mosquitto;
  let observer: Observer;
  let cam: MediaDevice;
  let dir: TempDir;
  let main: FifoWriter;
  let sub: FifoWriter;
  /** md5 of each picture NAL unit (slice segment) of the inputs, in order. */
  let mainPictures: string[];
  let subPictures: string[];

  beforeAll(async () => {
    dir = await tempDir();
    const source = ['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=${FPS}`, '-t', '4'];
    // What hardware encoders give: Annex-B, AUDs, no B-frames; VPS/SPS/PPS only at the first keyframe.
    await Promise.all([
      ffmpeg([
        ...source,
        ...['-c:v', 'libx265', '-preset', 'ultrafast'],
        ...['-x265-params', 'log-level=error:aud=1:keyint=25:min-keyint=25:bframes=0:scenecut=0'],
        ...['-f', 'hevc', join(dir.path, 'main.h265')],
      ]),
      ffmpeg([
        ...source,
        ...['-vf', 'scale=160:90', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-bf', '0'],
        ...['-x264-params', 'aud=1', '-f', 'h264', join(dir.path, 'sub.h264')],
      ]),
    ]);
    const mainStream = await readFile(join(dir.path, 'main.h265'));
    const subStream = await readFile(join(dir.path, 'sub.h264'));
    mainPictures = hevcPictures(mainStream).map(md5);
    subPictures = h264Pictures(subStream).map(md5);
    const fifos = { main: join(dir.path, 'main.fifo'), sub: join(dir.path, 'sub.fifo') };
    await promisify(execFile)('mkfifo', [fifos.main, fifos.sub]);
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/#']);
    cam = await startMediaDevice(broker.url, {
      media: {
        source: {
          kind: 'pipe',
          main: { fifo: fifos.main, fps: FPS, codec: 'h265' },
          sub: { fifo: fifos.sub, fps: FPS, codec: 'h264' },
        },
        // An encoded source's snapshots decode the sub stream unless told otherwise: this one proves
        // the H.265 main stream decodes.
        snapshot: { stream: 'main' },
      },
      webrtc: { cloudKeys: [cloud.publicKey.export({ type: 'spki', format: 'pem' }).toString()] },
    });
    // As the app does: an offer goes to a camera it has seen online (an earlier one would be lost).
    await observer.waitFor(
      (m) => m.topic === `cam/v1/${cam.device.serial}/status` && m.json().state === 'online',
      'the camera online',
      60_000,
    );
    await cam.daemon.waitForLog('pipe input open');
    main = new FifoWriter(
      accessUnitsAt(splitAnnexB(mainStream), (n) => hevcNalType(n) === HevcNal.AUD),
      FPS,
    );
    sub = new FifoWriter(
      accessUnitsAt(splitAnnexB(subStream), (n) => nalType(n) === NalType.AUD),
      FPS,
    );
    main.start(fifos.main);
    sub.start(fifos.sub);
  }, 90_000);

  afterAll(async () => {
    await main?.stop();
    await sub?.stop();
    await cam?.daemon.kill();
    await observer?.close();
    await broker?.stop();
    await dir?.remove();
  });

  it('describes main as H.265 (RFC 7798: H265/90000, sprop-vps/sps/pps) and sub as H.264', async () => {
    const client = await RawRtspClient.open(cam.rtspPort, cam.credentials);
    try {
      const described = await client.request('DESCRIBE', cam.url('/main', false), {
        Accept: 'application/sdp',
      });
      expect(described.status).toBe(200);
      expect(described.body).toMatch(/a=rtpmap:96 H265\/90000/);
      expect(described.body).toMatch(
        /a=fmtp:96 profile-space=0;tier-flag=0;profile-id=1;level-id=\d+;sprop-vps=[\w+/=]+;sprop-sps=[\w+/=]+;sprop-pps=[\w+/=]+/,
      );
      const subSdp = await client.request('DESCRIBE', cam.url('/sub', false), { Accept: 'application/sdp' });
      expect(subSdp.body).toMatch(/a=rtpmap:96 H264\/90000/);
    } finally {
      client.socket.destroy();
    }
    for (const transport of ['tcp', 'udp'] as const) {
      expect(await ffprobe(cam.url('/main'), transport)).toEqual([
        expect.objectContaining({ codec_type: 'video', codec_name: 'hevc', width: 320, height: 180 }),
      ]);
      expect(await ffprobe(cam.url('/sub'), transport)).toEqual([
        expect.objectContaining({ codec_type: 'video', codec_name: 'h264', width: 160, height: 90 }),
      ]);
    }
  });

  it('ffmpeg receives the H.265 pictures byte for byte over TCP, and decodes them over UDP', async () => {
    const client = copyClient(cam.url('/main'), 'hevc');
    try {
      await until(() => hevcPictures(client.bytes()).length >= 60, '60 pictures');
    } finally {
      client.child.kill('SIGTERM');
    }
    expectContinuous(hevcPictures(client.bytes()).map(md5), mainPictures);
    const { code, stderr } = await decodeFrames(cam.url('/main'), 50, 'udp');
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it("GStreamer's rtph265depay receives the pictures byte for byte over TCP and decodes them over UDP", async () => {
    const out = join(dir.path, 'gst.h265');
    const stdout = await gstDepayToFile(cam.url('/main'), 'h265', 60, out);
    expect(stdout).toContain('Got EOS from element');
    const got = hevcPictures(await readFile(out)).map(md5);
    expect(got.length).toBeGreaterThanOrEqual(59);
    expectContinuous(got, mainPictures);
    const udp = await gstDecodeUdp(cam.url('/main'), 'h265', 40);
    expect(udp).toContain('Got EOS from element');
  }, 70_000);

  it('runs no video encoder: one ffmpeg decodes the H.264 sub stream for analysis', async () => {
    const pid = cam.daemon.child.pid ?? 0;
    await cam.daemon.waitForLog('analysis frames flowing');
    const children = await childProcesses(pid);
    const ffmpegs = children.filter((c) => c.argv.some((a) => a.endsWith('ffmpeg')));
    const snapshot = ffmpegs.filter((c) => c.argv.join(' ').includes('-frames:v 1 -q:v 3 -f mjpeg'));
    expect(snapshot.length).toBeLessThanOrEqual(1);
    const others = ffmpegs.filter((c) => !snapshot.includes(c));
    expect(others.map((c) => c.argv.join(' '))).toEqual([
      expect.stringContaining('-f h264 -framerate 25 -i pipe:0'),
    ]);
    for (const c of children) {
      expect(c.argv.join(' ')).not.toMatch(/libx264|libx265|h264_\w+|hevc_\w+|-c:v|-vcodec|-codec/);
    }
  });

  it('a snapshot decodes the H.265 main stream at its size', async () => {
    const cmd = `cam/v1/${cam.device.serial}/cmd/snapshot`;
    await cam.daemon.waitForLog('analysis frames flowing');
    const answer = await observer.request(cmd, {});
    expect(answer).toMatchObject({ ok: true, result: { width: 320, height: 180 } });
  });

  it('WebRTC sends the H.264 sub stream, byte for byte, and the answer says so', async () => {
    const app = new AppPeer(observer, cam.device.serial);
    try {
      const answer = await app.offer(
        signViewerToken({ sub: cam.device.serial, rights: ['live'], ttlSeconds: 300 }, cloud.privateKey),
      );
      expect(answer).toMatchObject({ video: { stream: 'sub', codec: 'h264', reason: 'main_not_h264' } });
      expect(String(answer.sdp)).toMatch(/a=rtpmap:\d+ H264\/90000/);
      await app.videoUntil(100, 60_000);
      const got = h264Pictures(toAnnexB(app.videoPackets)).map(md5);
      expect(got.length).toBeGreaterThan(10);
      expectContinuous(got, subPictures);
    } finally {
      await app.bye();
      await app.close();
    }
  }, 90_000);

  it('a playing client survives the H.265 writer stopping and starting again', async () => {
    const client = copyClient(cam.url('/main'), 'hevc');
    const pictures = () => hevcPictures(client.bytes()).length;
    try {
      await until(() => pictures() >= 25, 'pictures before the stop');
      await main.stop();
      await new Promise((r) => setTimeout(r, 2000));
      const before = pictures();
      main.start(join(dir.path, 'main.fifo'));
      await until(() => pictures() >= before + 50, 'pictures after the restart');
      expect(client.child.exitCode).toBeNull();
      const got = hevcPictures(client.bytes()).map(md5).slice(before);
      expect(got.every((h) => mainPictures.includes(h))).toBe(true);
    } finally {
      client.child.kill('SIGTERM');
    }
  }, 40_000);
});
