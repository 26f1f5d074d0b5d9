import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIndex } from '../../src/recording/index-log.js';
import { RecordingReader } from '../../src/recording/reader.js';
import { gstUntilEos } from '../helpers/gst.js';
import { framemd5, run, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { RawRtspClient } from '../helpers/raw-rtsp.js';
import {
  CREDENTIALS,
  expectedFrames,
  iso,
  playbackServer,
  type Recorded,
  recordSegments,
} from './playback-fixture.js';

/** ffmpeg's framemd5 of the video it decodes from `input` (RTSP over TCP, or a file). */
async function decodedFrames(
  input: string,
  rtsp: 'tcp' | 'udp' | false = 'tcp',
): Promise<{ size: number; md5: string }[]> {
  const { stdout } = await run('ffmpeg', [
    ...['-nostdin', '-v', 'error'],
    ...(rtsp ? ['-rtsp_transport', rtsp] : []),
    ...['-i', input, '-map', '0:v', '-f', 'framemd5', '-'],
  ]);
  return framemd5(stdout);
}

function rtpTimestamp(packet: Buffer): number {
  return packet.readUInt32BE(4);
}

describe('RTSP playback of recordings', () => {
  let dir: TempDir;
  let rec: Recorded;
  let srv: Awaited<ReturnType<typeof playbackServer>>;

  beforeAll(async () => {
    dir = await tempDir();
    // 9 s of 25 fps H.264 (a keyframe a second) and AAC, in 3 s segments.
    rec = await recordSegments(dir.path, 9, 3000);
    srv = await playbackServer(() => rec.reader);
  });
  afterAll(async () => {
    await srv.server.stop();
    await rec.index.close();
    await dir.remove();
  });

  const range = (start: number, end: number, stream = 'main') =>
    `/playback?start=${iso(start)}&end=${iso(end)}&stream=${stream}`;

  it('ffmpeg decodes every recorded frame of a range, the same pictures as the files, and ends at BYE', async () => {
    expect(rec.segments.length).toBe(3);
    const first = rec.segments[0];
    const last = rec.segments.at(-1);
    if (!first || !last) throw new Error('no segments');
    const fromFiles = [];
    for (const s of rec.segments)
      fromFiles.push(...(await decodedFrames(join(rec.deviceDir, s.path), false)));
    const played = await decodedFrames(srv.url(range(first.start, last.end)));
    expect(played.length).toBe(rec.frames.length);
    expect(played.map((f) => f.md5)).toEqual(fromFiles.map((f) => f.md5));
    await srv.log.waitFor((r) => r.msg === 'rtsp playback reached the end of its range');
  });

  it('starts at the keyframe at or before start and stops before end (ffmpeg, frame count)', async () => {
    const s0 = rec.segments[0];
    const s2 = rec.segments[2];
    if (!s0 || !s2) throw new Error('no segments');
    const start = s0.start + 1500;
    const end = s2.start + 1000;
    const expected = expectedFrames(rec.frames, start, end);
    expect(expected[0]?.keyframe).toBe(true);
    expect(expected[0]?.wallMs).toBeLessThanOrEqual(start);
    const played = await decodedFrames(srv.url(range(start, end)));
    expect(played.length).toBe(expected.length);
  });

  it('ffmpeg over UDP gets every frame of a segment, paced', async () => {
    const s1 = rec.segments[1];
    if (!s1) throw new Error('no segments');
    const played = await decodedFrames(srv.url(range(s1.start, s1.end)), 'udp');
    expect(played.length).toBe(rec.frames.filter((f) => f.segment === 1).length);
  });

  it('GStreamer rtspsrc plays a range to its end, one buffer per recorded frame', async () => {
    const s1 = rec.segments[1];
    const s2 = rec.segments[2];
    if (!s1 || !s2) throw new Error('no segments');
    const start = s1.start;
    const end = s2.start + 2000;
    const expected = expectedFrames(rec.frames, start, end);
    const stdout = await gstUntilEos([
      ...['-v', 'rtspsrc', `location=${srv.url(range(start, end), false)}`, 'protocols=tcp'],
      ...[`user-id=${CREDENTIALS.username}`, `user-pw=${CREDENTIALS.password}`],
      ...['!', 'rtph264depay', '!', 'h264parse', '!', 'avdec_h264', '!', 'fakesink', 'silent=false'],
    ]);
    const buffers = stdout.split('\n').filter((l) => l.includes('fakesink0') && l.includes('chain'));
    expect(buffers.length).toBe(expected.length);
  });

  it('PLAY with Range: clock= seeks to the keyframe at or before it; PAUSE and PLAY go on; Scale 2 is granted', async () => {
    const s1 = rec.segments[1];
    const s2 = rec.segments[2];
    if (!s1 || !s2) throw new Error('no segments');
    const start = s1.start;
    const end = s2.end;
    const client = await RawRtspClient.open(srv.server.port, CREDENTIALS);
    try {
      const describe = await client.request('DESCRIBE', srv.url(range(start, end), false));
      expect(describe.status).toBe(200);
      expect(describe.body).toContain('a=rtpmap:96 H264/90000');
      expect(describe.body).toMatch(/a=range:clock=\d{8}T\d{6}\.\d{3}Z-\d{8}T\d{6}\.\d{3}Z/);
      const base = (describe.headers['content-base'] ?? '').replace(/\/$/, '');
      const setup = await client.request('SETUP', `${base}/trackID=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      });
      expect(setup.status).toBe(200);
      const session = (setup.headers.session ?? '').split(';')[0] ?? '';
      const seekTo = s2.start + 1500;
      const keyframe = expectedFrames(rec.frames, seekTo, end)[0];
      const compact = new Date(seekTo).toISOString().replace(/[-:]/g, '');
      const played = await client.request('PLAY', base, {
        Session: session,
        Range: `clock=${compact}-`,
        Scale: '2',
      });
      expect(played.status).toBe(200);
      expect(played.headers.scale).toBe('2');
      const npt = Number(/npt=([\d.]+)-/.exec(played.headers.range ?? '')?.[1]);
      expect(Math.abs(npt * 1000 - ((keyframe?.wallMs ?? 0) - start))).toBeLessThan(2);
      const rtptime = Number(/rtptime=(\d+)/.exec(played.headers['rtp-info'] ?? '')?.[1]);
      await client.until(() => client.frames.some((f) => f.channel === 0), 'first RTP packet');
      const firstRtp = client.frames.find((f) => f.channel === 0)?.data as Buffer;
      expect(rtpTimestamp(firstRtp)).toBe(rtptime);
      const paused = await client.request('PAUSE', base, { Session: session });
      expect(paused.status).toBe(200);
      // Counted up to each reply (`framesBefore`), not when the reply was noticed: by then frames sent
      // after it may have been read too.
      const sentBefore = client.frames.slice(0, paused.framesBefore).filter((f) => f.channel === 0);
      const lastBefore = sentBefore.at(-1)?.data as Buffer;
      const resumed = await client.request('PLAY', base, { Session: session });
      expect(resumed.status).toBe(200);
      const count = resumed.framesBefore;
      await client.until(() => client.frames.slice(count).some((f) => f.channel === 0), 'RTP after resume');
      const next = client.frames.slice(count).find((f) => f.channel === 0)?.data as Buffer;
      // Resumed where it paused: the sequence goes on and time does not go back.
      expect(next.readUInt16BE(2)).toBe((lastBefore.readUInt16BE(2) + 1) & 0xffff);
      expect((rtpTimestamp(next) - rtpTimestamp(lastBefore)) >>> 0 < 90000).toBe(true);
      // The end of the range: an RTCP BYE on the track's RTCP channel.
      await client.until(
        () => client.frames.some((f) => f.channel === 1 && f.data.includes(Buffer.from([0x81, 203]))),
        'BYE',
        20000,
      );
    } finally {
      client.close();
    }
  });

  it('a gap between segments is skipped: ffmpeg gets the frames on either side', async () => {
    const [s0, s1, s2] = rec.segments;
    if (!s0 || !s1 || !s2) throw new Error('no segments');
    const indexDir = join(dir.path, 'gappy');
    await mkdir(indexDir, { recursive: true });
    const gappy = new RecordingIndex(indexDir);
    await gappy.load();
    await gappy.replace([s0, s2], []);
    const reader = new RecordingReader(rec.deviceDir, () => gappy);
    const other = await playbackServer(() => reader);
    try {
      const played = await decodedFrames(other.url(range(s0.start, s2.end)));
      expect(played.length).toBe(rec.frames.filter((f) => f.segment !== 1).length);
    } finally {
      await other.server.stop();
      await gappy.close();
    }
  });

  it('answers 404 for a range without recordings, 401 for wrong credentials, 400 for a bad range, 503 without a card', async () => {
    const client = await RawRtspClient.open(srv.server.port, CREDENTIALS);
    const wrong = await RawRtspClient.open(srv.server.port, { username: 'admin', password: 'nope' });
    const none = await playbackServer(() => undefined);
    const noCard = await RawRtspClient.open(none.server.port, CREDENTIALS);
    try {
      const s0 = rec.segments[0];
      if (!s0) throw new Error('no segments');
      const before = s0.start - 3_600_000;
      expect((await client.request('DESCRIBE', srv.url(range(before, before + 60_000), false))).status).toBe(
        404,
      );
      expect((await wrong.request('DESCRIBE', srv.url(range(s0.start, s0.end), false))).status).toBe(401);
      expect(
        (await client.request('DESCRIBE', srv.url(`/playback?start=yesterday&end=${iso(s0.end)}`, false)))
          .status,
      ).toBe(400);
      expect((await client.request('DESCRIBE', srv.url(range(s0.end, s0.start), false))).status).toBe(400);
      expect((await noCard.request('DESCRIBE', none.url(range(s0.start, s0.end), false))).status).toBe(503);
    } finally {
      client.close();
      wrong.close();
      noCard.close();
      await none.server.stop();
    }
  });
});
