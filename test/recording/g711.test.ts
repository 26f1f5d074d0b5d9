import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIndex } from '../../src/recording/index-log.js';
import { demuxInit } from '../../src/recording/mp4/demux.js';
import { RecordingReader } from '../../src/recording/reader.js';
import type { SegmentEntry } from '../../src/recording/segment-writer.js';
import { probeStreams, run, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { recordWithG711 } from './feed.js';
import { iso, playbackServer } from './playback-fixture.js';

// An encoded source whose sound is G.711 (feed.ts, recordWithG711): recording keeps it as it is, a
// `ulaw` track, which ffprobe, ffmpeg and RTSP playback (PCMU, payload type 0) read.

interface Probed {
  codec_name: string;
  sample_rate?: string;
  channels?: number;
  duration?: string;
}

describe('recording a source with G.711 sound', () => {
  let dir: TempDir;
  let deviceDir: string;
  const closed: SegmentEntry[] = [];
  let sent = 0;

  beforeAll(async () => {
    dir = await tempDir();
    deviceDir = join(dir.path, 'card', 'DEV');
    const recorded = await recordWithG711(dir.path, 7, 3000);
    closed.push(...recorded.closed);
    sent = recorded.soundFrames;
  }, 60_000);
  afterAll(() => dir.remove());

  const pathOf = (seg: SegmentEntry) => join(deviceDir, seg.path);

  it('writes a µ-law track next to the video, as long as it, in every segment, decoding without an error', async () => {
    expect(closed.length).toBeGreaterThanOrEqual(2);
    let packets = 0;
    for (const seg of closed) {
      const streams = await probeStreams(pathOf(seg));
      expect(streams.map((s) => s.codec_name)).toEqual(['h264', 'pcm_mulaw']);
      const { stdout } = await run('ffprobe', [
        ...['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate,channels,duration'],
        ...['-of', 'json', pathOf(seg)],
      ]);
      const [video, audio] = (JSON.parse(stdout.toString()) as { streams: Probed[] }).streams;
      expect([audio?.sample_rate, audio?.channels]).toEqual(['8000', 1]);
      expect(Math.abs(Number(audio?.duration) - Number(video?.duration))).toBeLessThan(0.1);
      packets += Number(streams[1]?.nb_read_packets);
      const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', pathOf(seg), '-f', 'null', '-']);
      expect(stderr).toBe('');
    }
    // Frames before the first keyframe, and after the last segment's end, are not recorded.
    expect(packets).toBeGreaterThan(sent * 0.8);
    const init = demuxInit(await readFile(pathOf(closed[0] as SegmentEntry)));
    expect(init.audio).toEqual({ codec: 'pcmu', sampleRate: 8000, channels: 1 });
    expect(closed[0]?.codec).toMatch(/^avc1\./);
  });

  it('plays back over RTSP with the sound as PCMU, which ffmpeg decodes', async () => {
    const index = new RecordingIndex(deviceDir);
    await index.load();
    await index.replace(closed, []);
    const reader = new RecordingReader(deviceDir, () => index);
    const srv = await playbackServer(() => reader);
    try {
      const seg = closed[0] as SegmentEntry;
      const url = srv.url(`/playback?start=${iso(seg.start)}&end=${iso(seg.end)}&stream=main`);
      const { stdout } = await run('ffprobe', [
        ...['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name,sample_rate'],
        ...['-of', 'json', url],
      ]);
      const streams = (JSON.parse(stdout.toString()) as { streams: Probed[] }).streams;
      expect(streams.map((s) => s.codec_name)).toEqual(['h264', 'pcm_mulaw']);
      const decoded = await run('ffmpeg', [
        ...['-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-i', url],
        ...['-map', '0:a', '-f', 's16le', '-'],
      ]);
      // 16-bit samples at 8 kHz: the segment's sound, within a frame or two.
      const seconds = decoded.stdout.length / 2 / 8000;
      expect(Math.abs(seconds - (seg.end - seg.start) / 1000)).toBeLessThan(0.1);
    } finally {
      await srv.server.stop();
      await index.close();
    }
  });
});
