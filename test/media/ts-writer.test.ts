import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamType } from '../../src/media/mpegts.js';
import { crc32Mpeg, writeTs } from '../../src/media/ts-writer.js';
import { demux, makeTs, run, type TempDir, tempDir } from '../helpers/media-fixtures.js';

describe('the MPEG-TS writer', () => {
  let dir: TempDir;
  let video: { data: Buffer; pts: number }[];

  beforeAll(async () => {
    dir = await tempDir();
    const source = await makeTs(join(dir.path, 'source.ts'), { seconds: 2 });
    video = demux(source)
      .filter((p) => p.streamType === StreamType.H264)
      .map((p) => ({ data: p.data, pts: p.pts ?? 0 }));
  });
  afterAll(() => dir.remove());

  it('computes CRC-32/MPEG-2 as the standard check value says', () => {
    expect(crc32Mpeg(Buffer.from('123456789'))).toBe(0x0376e6e7);
  });

  it('writes a stream ffprobe reads back frame by frame, with the PTS it was given', async () => {
    // Times of our choosing: the newest picture at exactly 100 s.
    const units = video.map((u, i) => ({ data: u.data, pts: 100 * 90000 - (video.length - 1 - i) * 3600 }));
    const path = join(dir.path, 'written.ts');
    const ts = writeTs(units);
    expect(ts.length % 188).toBe(0);
    await writeFile(path, ts);
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts', '-of', 'csv=p=0', path],
    ]);
    // One `pts,` line per packet (and blank lines between, from ffprobe's csv writer).
    const pts = stdout
      .toString()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => Number.parseInt(line, 10));
    expect(pts).toEqual(units.map((u) => u.pts));
    const { stdout: frames } = await run('ffprobe', [
      ...['-v', 'error', '-count_frames', '-select_streams', 'v', '-show_entries', 'stream=nb_read_frames'],
      ...['-of', 'csv=p=0', path],
    ]);
    expect(Number.parseInt(frames.toString().trim(), 10)).toBe(units.length);
  });

  it('is read back by the project’s own demuxer byte for byte', () => {
    const units = video.map((u, i) => ({ data: u.data, pts: 2 ** 33 - 1 - (video.length - i) * 3600 }));
    const back = demux(writeTs(units)).filter((p) => p.streamType === StreamType.H264);
    expect(back.map((p) => p.pts)).toEqual(units.map((u) => u.pts));
    expect(back.every((p, i) => p.data.equals(units[i]?.data ?? Buffer.alloc(0)))).toBe(true);
  });
});
