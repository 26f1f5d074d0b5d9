// Playback: time to first frame of an RTSP playback 3 weeks back (issue 12), with 30 days of
// one-minute segments in the index. The minutes 3 weeks back are real segments (ffmpeg's H.264 +
// AAC through the project's segmenter and writer); the rest of the month is index entries only.
// Measured with a raw RTSP client from connecting to the first RTP packet of video (DESCRIBE,
// SETUP, PLAY with Digest), and with ffmpeg from its start to its first decoded frame (process
// start included). Run: node --import tsx bench/playback.ts [dir] (figures printed, nothing asserted).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingIndex } from '../src/recording/index-log.js';
import { closedName, hourDir } from '../src/recording/naming.js';
import { RecordingReader } from '../src/recording/reader.js';
import { type SegmentEntry, SegmentWriter } from '../src/recording/segment-writer.js';
import { Segmenter } from '../src/recording/segmenter.js';
import { run } from '../test/helpers/media-fixtures.js';
import { RawRtspClient } from '../test/helpers/raw-rtsp.js';
import { encodedStream } from '../test/recording/feed.js';
import { CREDENTIALS, iso, playbackServer } from '../test/recording/playback-fixture.js';

const DAYS = 30;
const RUNS = 10;
const base = process.argv[2] ?? tmpdir();
const dir = await mkdtemp(join(base, 'bench-playback-'));
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

try {
  const deviceDir = join(dir, 'card', 'DEV');
  const monthStart = Date.UTC(2026, 10, 1);
  const now = monthStart + DAYS * 86_400_000;
  const threeWeeksBack = now - 21 * 86_400_000;

  // Real segments 3 weeks back: 2 minutes of stream in one-minute segments.
  const { hub, items } = await encodedStream(dir, 120, threeWeeksBack);
  const real: SegmentEntry[] = [];
  const writer = new SegmentWriter({
    deviceDir,
    syncIntervalMs: 0,
    mayWrite: async () => true,
    keptOnCard: async () => true,
    onClosed: (e) => real.push(e),
    onError: (err) => {
      throw err;
    },
  });
  const segmenter = new Segmenter({
    stream: 'main',
    kind: 'continuous',
    segmentMs: 60_000,
    fragmentMs: 1000,
    tracks: () => ({ video: hub.video, audio: hub.audio }),
    output: (out) => writer.handle(out),
  });
  hub.on('video', (au) => segmenter.pushVideo(au));
  hub.on('audio', (f) => segmenter.pushAudio(f));
  for (const [i, item] of items.entries()) {
    if (item.kind === 'video') hub.pushVideo(item);
    else hub.pushAudio(item);
    if (i % 50 === 0) await writer.idle(); // the writer's queue is bounded
  }
  segmenter.close();
  await writer.idle();

  // The rest of the month as index entries.
  const firstReal = real[0]?.start ?? threeWeeksBack;
  const lastReal = real.at(-1)?.end ?? threeWeeksBack;
  const segments: SegmentEntry[] = [...real];
  for (let s = monthStart; s < now; s += 60_000) {
    if (s + 60_000 > firstReal && s < lastReal) continue;
    segments.push({
      path: join(hourDir('', s), closedName(s, s + 60_000)),
      start: s,
      end: s + 60_000,
      stream: 'main',
      kind: 'continuous',
      codec: 'avc1.42c01e',
      bytes: 15_000_000,
      events: [],
    });
  }
  const index = new RecordingIndex(join(dir, 'index'));
  await index.load();
  await index.replace(segments, []);
  console.log(`index: ${segments.length} segments (${real.length} real, 3 weeks back)`);

  const srv = await playbackServer(() => new RecordingReader(deviceDir, () => index));
  const from = firstReal + 30_000; // mid-segment: the seek goes back to a keyframe
  const path = `/playback?start=${iso(from)}&end=${iso(from + 60_000)}`;

  const raw: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const client = await RawRtspClient.open(srv.server.port, CREDENTIALS);
    const url = srv.url(path, false);
    const described = await client.request('DESCRIBE', url);
    const base = (described.headers['content-base'] ?? '').replace(/\/$/, '');
    await client.play(base, [0]);
    await client.until(() => client.frames.some((f) => f.channel === 0), 'first RTP packet');
    raw.push(ms(t0));
    client.close();
  }
  console.log(
    `raw client, connect to first RTP packet: median ${median(raw).toFixed(1)} ms, max ${Math.max(...raw).toFixed(1)} ms (${RUNS} runs)`,
  );

  const ff: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    await run('ffmpeg', [
      ...['-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-i', srv.url(path)],
      ...['-frames:v', '1', '-f', 'null', '-'],
    ]);
    ff.push(ms(t0));
  }
  console.log(
    `ffmpeg, process start to first decoded frame: median ${median(ff).toFixed(0)} ms (3 runs; ffmpeg probes ~1 s of stream first)`,
  );
  await srv.server.stop();
  await index.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
