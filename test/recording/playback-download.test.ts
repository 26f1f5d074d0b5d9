import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIndex } from '../../src/recording/index-log.js';
import { createDownloadHandler, signDownloadQuery } from '../../src/recording/playback/http.js';
import { RecordingReader } from '../../src/recording/reader.js';
import { captureLog } from '../core/fixtures.js';
import { framemd5, run, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { CREDENTIALS, expectedFrames, iso, type Recorded, recordSegments } from './playback-fixture.js';

const KEY = Buffer.alloc(32, 7);

async function serve(reader: () => RecordingReader | undefined): Promise<{ server: Server; base: string }> {
  const handle = createDownloadHandler({
    reader,
    credentials: () => CREDENTIALS,
    signingKey: async () => KEY,
    log: captureLog().log,
  });
  const server = createServer((req, res) => {
    if (!handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function videoPackets(input: string): Promise<{ pts_time: string; flags: string }[]> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags'],
    ...['-of', 'json', input],
  ]);
  return (JSON.parse(stdout.toString()) as { packets: { pts_time: string; flags: string }[] }).packets;
}

describe('HTTP download of a recorded range as one MP4', () => {
  let dir: TempDir;
  let rec: Recorded;
  let http: { server: Server; base: string };

  beforeAll(async () => {
    dir = await tempDir();
    rec = await recordSegments(dir.path, 9, 3000);
    http = await serve(() => rec.reader);
  });
  afterAll(async () => {
    await new Promise((resolve) => http.server.close(resolve));
    await rec.index.close();
    await dir.remove();
  });

  const signed = (start: number, end: number, ttl = 60, now = Date.now()) =>
    `${http.base}/recordings/download?${signDownloadQuery(KEY, { start, end, stream: 'main' }, ttl, now)}`;
  const digestUrl = (start: number, end: number, password = CREDENTIALS.password) =>
    `http://${CREDENTIALS.username}:${encodeURIComponent(password)}@${http.base.slice(7)}/recordings/download?start=${iso(start)}&end=${iso(end)}`;

  it('ffprobe (HTTP Digest) reads the frames of the range with their recorded timestamps; they decode as the files do', async () => {
    const s0 = rec.segments[0];
    const s2 = rec.segments[2];
    if (!s0 || !s2) throw new Error('no segments');
    const start = s0.start + 1500;
    const end = s2.start + 2000;
    const expected = expectedFrames(rec.frames, start, end);
    const packets = await videoPackets(digestUrl(start, end));
    expect(packets.length).toBe(expected.length);
    const zero = expected[0]?.wallMs ?? 0;
    for (const [i, p] of packets.entries()) {
      const want = ((expected[i]?.wallMs ?? 0) - zero) / 1000;
      expect(Math.abs(Number(p.pts_time) - want)).toBeLessThan(0.002);
      expect(p.flags.startsWith('K')).toBe(expected[i]?.keyframe);
    }
    const response = await fetch(signed(start, end));
    expect(response.headers.get('x-recording-start')).toBe(iso(zero));
    // The whole range decodes to the same pictures as the segment files.
    const file = join(dir.path, 'whole.mp4');
    const whole = await fetch(signed(s0.start, s2.end));
    await writeFile(file, Buffer.from(await whole.arrayBuffer()));
    const fromFiles = [];
    for (const s of rec.segments) {
      const { stdout } = await run('ffmpeg', [
        ...['-v', 'error', '-i', join(rec.deviceDir, s.path), '-map', '0:v', '-f', 'framemd5', '-'],
      ]);
      fromFiles.push(...framemd5(stdout));
    }
    const { stdout, stderr } = await run('ffmpeg', [
      '-v',
      'error',
      '-i',
      file,
      '-map',
      '0:v',
      '-f',
      'framemd5',
      '-',
    ]);
    expect(stderr).toBe('');
    expect(framemd5(stdout).map((f) => f.md5)).toEqual(fromFiles.map((f) => f.md5));
  });

  it('answers byte ranges with 206 and the bytes of the whole file; 416 past its end', async () => {
    const s0 = rec.segments[0];
    const s2 = rec.segments[2];
    if (!s0 || !s2) throw new Error('no segments');
    const url = signed(s0.start, s2.end);
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(whole.length).toBeGreaterThan(100_000);
    for (const [header, first, last] of [
      ['bytes=0-99', 0, 99],
      ['bytes=1000-70000', 1000, 70000],
      [`bytes=${whole.length - 5000}-`, whole.length - 5000, whole.length - 1],
      ['bytes=-777', whole.length - 777, whole.length - 1],
    ] as const) {
      const response = await fetch(url, { headers: { Range: header } });
      expect(response.status).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes ${first}-${last}/${whole.length}`);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.equals(whole.subarray(first, last + 1))).toBe(true);
    }
    const past = await fetch(url, { headers: { Range: `bytes=${whole.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${whole.length}`);
  });

  it('a gap between segments is taken out: decode times run on', async () => {
    const [s0, s1, s2] = rec.segments;
    if (!s0 || !s1 || !s2) throw new Error('no segments');
    const indexDir = join(dir.path, 'gappy');
    await mkdir(indexDir, { recursive: true });
    const gappy = new RecordingIndex(indexDir);
    await gappy.load();
    await gappy.replace([s0, s2], []);
    const other = await serve(() => new RecordingReader(rec.deviceDir, () => gappy));
    try {
      const query = signDownloadQuery(KEY, { start: s0.start, end: s2.end, stream: 'main' }, 60);
      const packets = await videoPackets(`${other.base}/recordings/download?${query}`);
      const kept = rec.frames.filter((f) => f.segment !== 1);
      expect(packets.length).toBe(kept.length);
      const firstOfS2 = rec.frames.filter((f) => f.segment === 0).length;
      // The first frame of the third segment follows the last of the first one.
      expect(Math.abs(Number(packets[firstOfS2]?.pts_time) * 1000 - (s0.end - s0.start))).toBeLessThan(2);
    } finally {
      await new Promise((resolve) => other.server.close(resolve));
      await gappy.close();
    }
  });

  it('401 without or with wrong credentials, 403 for an expired or altered signed URL, 404 with nothing recorded', async () => {
    const s0 = rec.segments[0];
    if (!s0) throw new Error('no segments');
    const plain = `${http.base}/recordings/download?start=${iso(s0.start)}&end=${iso(s0.end)}`;
    const none = await fetch(plain);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Digest realm="ipcam-agent"/);
    const wrong = await run('curl', [
      ...['-s', '-o', '/dev/null', '-w', '%{http_code}', '--digest', '-u', `${CREDENTIALS.username}:wrong`],
      plain,
    ]);
    expect(wrong.stdout.toString()).toBe('401');
    const right = await run('curl', [
      ...[
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--digest',
        '-u',
        `${CREDENTIALS.username}:${CREDENTIALS.password}`,
      ],
      plain,
    ]);
    expect(right.stdout.toString()).toBe('200');
    const expired = await fetch(signed(s0.start, s0.end, 60, Date.now() - 120_000));
    expect(expired.status).toBe(403);
    const later = new Date(s0.end + 60_000).toISOString().replace(/[-:]/g, '');
    const altered = signed(s0.start, s0.end).replace(/end=[^&]+/, `end=${later}`);
    expect((await fetch(altered)).status).toBe(403);
    const before = s0.start - 3_600_000;
    expect((await fetch(signed(before, before + 60_000))).status).toBe(404);
  });
});
