import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessUnitSplitter } from '../../src/media/au-splitter.js';
import { StreamHub } from '../../src/media/hub.js';
import type { VideoAccessUnit } from '../../src/media/types.js';
import { demuxInit } from '../../src/recording/mp4/demux.js';
import type { SegmentEntry } from '../../src/recording/segment-writer.js';
import { ffmpeg, probeStreams, run, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { recordItems } from './feed.js';

// A camera whose main stream is H.265 records it as it is: `hvc1` with an `hvcC` built from the
// stream's own VPS, SPS and PPS. Checked against ffprobe/ffmpeg and against the `hvcC` ffmpeg's own mp4
// muxer writes for the same stream. (Debian's Chromium has no HEVC decoder: no browser check here.)

const FPS = 25;
const WALL_START = Date.UTC(2026, 11, 6, 10, 0, 0);

function accessUnits(stream: Buffer): VideoAccessUnit[] {
  const out: VideoAccessUnit[] = [];
  const splitter = new AccessUnitSplitter(
    (au) => {
      const n = out.length;
      out.push({
        kind: 'video',
        codec: 'h265',
        ...au,
        pts: 90000 + n * (90000 / FPS),
        at: WALL_START + n * 40,
      });
    },
    () => undefined,
    {},
    'h265',
  );
  splitter.push(stream);
  splitter.end();
  return out;
}

/** The body of the first box of `type` found depth-first under the given path of container boxes. */
function findBox(buf: Buffer, type: string): Buffer | undefined {
  const containers = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl']);
  for (let at = 0; at + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(at);
    const name = buf.toString('latin1', at + 4, at + 8);
    if (size < 8 || at + size > buf.length) return undefined;
    const body = buf.subarray(at + 8, at + size);
    if (name === type) return body;
    if (containers.has(name)) {
      const found = findBox(body, type);
      if (found) return found;
    }
    if (name === 'stsd') {
      // stsd: version/flags, entry count, then sample entries; a visual entry's boxes start at 78.
      const entry = body.subarray(8);
      const found = findBox(entry.subarray(8 + 78), type);
      if (found) return found;
    }
    at += size;
  }
  return undefined;
}

describe('recording an H.265 stream', () => {
  let dir: TempDir;
  let closed: SegmentEntry[];
  let units: VideoAccessUnit[];

  beforeAll(async () => {
    dir = await tempDir();
    await ffmpeg([
      ...['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=${FPS}`, '-t', '6'],
      ...['-c:v', 'libx265', '-preset', 'ultrafast'],
      ...['-x265-params', `log-level=error:keyint=${FPS}:min-keyint=${FPS}:bframes=0:repeat-headers=1`],
      ...['-f', 'hevc', join(dir.path, 'in.h265')],
    ]);
    units = accessUnits(await readFile(join(dir.path, 'in.h265')));
    const hub = new StreamHub('main', 'h265');
    ({ closed } = await recordItems(dir.path, hub, units, 2500));
  }, 60_000);
  afterAll(() => dir.remove());

  const pathOf = (seg: SegmentEntry) => join(dir.path, 'card', 'DEV', seg.path);

  it('writes segments ffprobe reads as hvc1 HEVC, every picture in them, decoding without an error', async () => {
    expect(units.length).toBe(6 * FPS);
    expect(closed.length).toBeGreaterThanOrEqual(2);
    let frames = 0;
    for (const seg of closed) {
      const [video, ...others] = await probeStreams(pathOf(seg));
      expect(others).toEqual([]);
      expect(video?.codec_name).toBe('hevc');
      expect(video?.codec_tag_string).toBe('hvc1');
      expect([video?.width, video?.height]).toEqual([640, 360]);
      frames += Number(video?.nb_read_packets);
      const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', pathOf(seg), '-f', 'null', '-']);
      expect(stderr).toBe('');
    }
    expect(frames).toBe(units.length);
  });

  it("describes the stream as ffmpeg's own mp4 muxer does (hvcC header), and reads back its parameter sets", async () => {
    const first = closed[0] as SegmentEntry;
    const ours = await readFile(pathOf(first));
    const reference = join(dir.path, 'reference.mp4');
    await ffmpeg(['-i', join(dir.path, 'in.h265'), '-c', 'copy', '-tag:v', 'hvc1', '-t', '1', reference]);
    const theirs = findBox(await readFile(reference), 'hvcC');
    const mine = findBox(ours, 'hvcC');
    expect(theirs).toBeDefined();
    expect(mine).toBeDefined();
    // configurationVersion to lengthSizeMinusOne: profile, tier, level, compatibility and constraint
    // flags, chroma format, bit depths, temporal layers, NAL length size.
    expect(mine?.subarray(0, 22).toString('hex')).toBe(theirs?.subarray(0, 22).toString('hex'));
    const init = demuxInit(ours);
    expect(init.video.codec).toBe('h265');
    const key = units[0] as VideoAccessUnit;
    const types = key.nalus.map((n) => ((n[0] as number) >> 1) & 0x3f);
    if (init.video.codec === 'h265') {
      expect(init.video.vps.equals(key.nalus[types.indexOf(32)] as Buffer)).toBe(true);
      expect(init.video.sps.equals(key.nalus[types.indexOf(33)] as Buffer)).toBe(true);
      expect(init.video.pps.equals(key.nalus[types.indexOf(34)] as Buffer)).toBe(true);
    }
  });

  it('names the codec in the segment metadata as ISO/IEC 14496-15 annex E does', () => {
    // x265's Main profile: profile 1, compatibility flags 0x60000000 (bit-reversed: 6), Main tier,
    // level 2.1 (63) at 640x360, constraint byte progressive + frame-only (0x90), the rest zero.
    expect(closed[0]?.codec).toBe('hvc1.1.6.L63.90');
  });
});
