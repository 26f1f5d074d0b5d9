import { appendFile, copyFile, mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INDEX_FILE, RecordingIndex } from '../../src/recording/index-log.js';
import { parseName } from '../../src/recording/naming.js';
import { RecordingReader, seekFragment } from '../../src/recording/reader.js';
import { readSegment, rebuildFromFiles } from '../../src/recording/rebuild.js';
import type { SegmentEntry } from '../../src/recording/segment-writer.js';
import { captureLog } from '../core/fixtures.js';
import { probeStreams, run, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { record } from './feed.js';

interface Packet {
  pts_time: string;
  duration_time: string;
  flags: string;
}

async function packets(path: string, stream: 'v' | 'a'): Promise<Packet[]> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', `${stream}:0`],
    ...['-show_entries', 'packet=pts_time,duration_time,flags', '-of', 'json', path],
  ]);
  return (JSON.parse(stdout.toString()) as { packets: Packet[] }).packets;
}

describe('fMP4 segments from a real H.264 + AAC stream', () => {
  let dir: TempDir;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(() => dir.remove());

  it('cuts at keyframes into segments in the layout that ffprobe reads whole, meeting frame to frame', async () => {
    const { closed, videoFrames } = await record(dir.path, 7, 3000);
    expect(closed.length).toBe(3);
    let frames = 0;
    for (const [i, seg] of closed.entries()) {
      // <root>/<device>/<YYYY-MM-DD>/<HH>/<start>-<end>.mp4, UTC: the stream starts at 00:59:30.
      expect(seg.path).toMatch(/^2026-12-06\/(00|01)\/\d{8}T\d{6}\.\d{3}Z-\d{8}T\d{6}\.\d{3}Z\.mp4$/);
      const name = parseName(seg.path.split('/').at(-1) ?? '');
      expect(name).toEqual({ start: seg.start, end: seg.end });
      const path = join(dir.path, 'card', 'DEV', seg.path);
      const streams = await probeStreams(path);
      expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
      const video = await packets(path, 'v');
      expect(video[0]?.flags.startsWith('K')).toBe(true);
      expect(Number(video[0]?.pts_time)).toBe(0);
      frames += video.length;
      // The segment's length by its name is its frames' length: consecutive segments meet exactly.
      const last = video.at(-1) as Packet;
      const lengthMs = (Number(last.pts_time) + Number(last.duration_time)) * 1000;
      expect(Math.abs(lengthMs - (seg.end - seg.start))).toBeLessThanOrEqual(2);
      const next = closed[i + 1];
      if (next) expect(next.start - seg.end).toBe(0);
      expect((await packets(path, 'a')).length).toBeGreaterThan(0);
      expect(seg.bytes).toBe((await stat(path)).size);
    }
    expect(frames).toBe(videoFrames);
    // The whole file decodes without an error.
    const first = join(dir.path, 'card', 'DEV', (closed[0] as SegmentEntry).path);
    const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', first, '-f', 'null', '-']);
    expect(stderr).toBe('');
  });

  it('a segment cut short mid-fragment plays to its last complete fragment and is repaired', async () => {
    const { closed } = await record(dir.path, 4, 10000);
    const seg = closed[0] as SegmentEntry;
    const source = join(dir.path, 'card', 'DEV', seg.path);
    const size = (await stat(source)).size;
    // As a power cut leaves it: the open name, the bytes up to somewhere inside the third fragment.
    const hour = join(dir.path, 'card', 'DEV', seg.path.split('/').slice(0, -1).join('/'));
    const openName = `${(seg.path.split('/').at(-1) as string).slice(0, 20)}-open.mp4`;
    const cut = join(hour, openName);
    await copyFile(source, cut);
    const handle = await open(cut, 'r+');
    await handle.truncate(Math.floor(size * 0.6));
    await handle.close();
    const before = await packets(cut, 'v');
    expect(before.length).toBeGreaterThan(25);

    const entry = await readSegment(
      join(dir.path, 'card', 'DEV'),
      join(seg.path.split('/').slice(0, -1).join('/'), openName),
      captureLog().log,
    );
    expect(entry).toBeDefined();
    const repaired = join(dir.path, 'card', 'DEV', entry?.path ?? '');
    expect(await readdir(hour)).not.toContain(openName);
    const after = await packets(repaired, 'v');
    expect(after.length).toBeGreaterThan(0);
    expect(after.length).toBeLessThanOrEqual(before.length);
    const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', repaired, '-f', 'null', '-']);
    expect(stderr).toBe('');
    const last = after.at(-1) as Packet;
    const lengthMs = (Number(last.pts_time) + Number(last.duration_time)) * 1000;
    expect(Math.abs((entry?.end ?? 0) - (entry?.start ?? 0) - lengthMs)).toBeLessThanOrEqual(2);
  });

  it('the index is rebuilt from the files alone when it is lost or damaged; a torn last line is dropped', async () => {
    const { closed } = await record(dir.path, 7, 3000);
    const deviceDir = join(dir.path, 'card', 'DEV');
    const index = new RecordingIndex(deviceDir);
    expect(await index.load()).toBe('missing');
    const rebuilt = await rebuildFromFiles(deviceDir, captureLog().log);
    expect(rebuilt.segments).toEqual(closed);

    await index.replace(rebuilt.segments, []);
    await index.putEvent({ id: 'alarm-1', start: closed[0]?.start ?? 0, end: closed[0]?.end ?? 0 });
    const path = join(deviceDir, INDEX_FILE);
    // A power cut while appending leaves half a line: the rest of the log still counts.
    await appendFile(path, '{"t":"seg","path":"2026-12-06/01/x');
    const again = new RecordingIndex(deviceDir);
    expect(await again.load()).toBe('ok');
    expect(again.sortedSegments()).toEqual(closed);
    expect([...again.events.keys()]).toEqual(['alarm-1']);
    // Damage in the middle (a bad block, an editor on a PC): rebuilt from the files instead.
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[1] = '{"t":"seg","path":42}';
    await writeFile(path, lines.join('\n'));
    expect(await new RecordingIndex(deviceDir).load()).toBe('corrupt');
  });

  it('a card with a layout of its own around ours: the rebuild indexes our segments and touches nothing else', async () => {
    const { closed } = await record(dir.path, 4, 3000);
    const card = join(dir.path, 'card');
    const deviceDir = join(card, 'DEV');
    const hour = (closed[0] as SegmentEntry).path.split('/').slice(0, 2).join('/');
    const ourName = (closed[0] as SegmentEntry).path.split('/').at(-1) as string;
    // A phone's pictures, another camera's recordings, a note and odd names inside our own folders, and
    // a folder named like one of our segments.
    const foreign = [
      'DCIM/100MEDIA/IMG_0001.JPG',
      `OTHERCAM/${hour}/${ourName}`,
      `DEV/${hour.split('/')[0]}/README.txt`,
      `DEV/${hour}/notes.mp4`,
      `DEV/${hour.split('/')[0]}/99/clip.mp4`,
    ];
    for (const rel of foreign) {
      await mkdir(join(card, rel, '..'), { recursive: true });
      await writeFile(join(card, rel), `not ours: ${rel}`);
    }
    const lookalike = `${hour}/${ourName.replace(/\d{3}Z-/, (m) => `${String((Number(m.slice(0, 3)) + 1) % 1000).padStart(3, '0')}Z-`)}`;
    await mkdir(join(deviceDir, lookalike));
    const rebuilt = await rebuildFromFiles(deviceDir, captureLog().log);
    expect(rebuilt.segments).toEqual(closed);
    for (const rel of foreign) expect(await readFile(join(card, rel), 'utf8')).toBe(`not ours: ${rel}`);
    expect((await stat(join(deviceDir, lookalike))).isDirectory()).toBe(true);
  });

  it('the reader finds a range, seeks to a sync fragment and reads fragments that play after the init bytes', async () => {
    const { closed } = await record(dir.path, 7, 3000);
    const deviceDir = join(dir.path, 'card', 'DEV');
    const index = new RecordingIndex(deviceDir);
    await index.replace(closed, []);
    const reader = new RecordingReader(deviceDir, () => index);
    const second = closed[1] as SegmentEntry;
    expect(reader.segments(second.start + 10, second.start + 20, 'main')).toEqual([second]);
    expect(reader.segments(second.start, second.start, 'sub')).toEqual([]);
    const opened = await reader.open(second);
    try {
      const from = seekFragment(opened.fragments, 1500);
      expect(from?.sync).toBe(true);
      expect(from?.startMs).toBeLessThanOrEqual(1500);
      const rest = opened.fragments.slice(
        opened.fragments.indexOf(from as (typeof opened.fragments)[number]),
      );
      const bytes = Buffer.concat([opened.init, ...(await Promise.all(rest.map((f) => opened.read(f))))]);
      const path = join(dir.path, 'from-seek.mp4');
      await writeFile(path, bytes);
      const video = await packets(path, 'v');
      expect(video[0]?.flags.startsWith('K')).toBe(true);
      expect(Number(video[0]?.pts_time) * 1000).toBeCloseTo(from?.startMs ?? -1, 0);
      const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']);
      expect(stderr).toBe('');
    } finally {
      await opened.close();
    }
  });
});
