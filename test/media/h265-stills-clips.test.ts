import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipRecorder } from '../../src/alarms/clip.js';
import { AccessUnitSplitter } from '../../src/media/au-splitter.js';
import { StreamHub } from '../../src/media/hub.js';
import { takeSnapshot } from '../../src/media/snapshot.js';
import { writeTs } from '../../src/media/ts-writer.js';
import type { VideoAccessUnit, VideoCodec } from '../../src/media/types.js';
import { ffmpeg, probeStreams, run, type TempDir, tempDir } from '../helpers/media-fixtures.js';

const FPS = 25;
const START = Buffer.from([0, 0, 0, 1]);

/** The encoder's access units as the pipe source hands them on, timed at FPS. */
function accessUnits(stream: Buffer, codec: VideoCodec): VideoAccessUnit[] {
  const out: VideoAccessUnit[] = [];
  const splitter = new AccessUnitSplitter(
    (au) => out.push({ kind: 'video', codec, ...au, pts: 90000 + out.length * 3600, at: out.length * 40 }),
    () => undefined,
    {},
    codec,
  );
  splitter.push(stream);
  splitter.end();
  return out;
}

describe('H.265 in snapshots, clips and the MPEG-TS writer', () => {
  let dir: TempDir;
  let h265: VideoAccessUnit[];
  let h264: VideoAccessUnit[];

  beforeAll(async () => {
    dir = await tempDir();
    const source = ['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=${FPS}`, '-t', '2'];
    await Promise.all([
      ffmpeg([
        ...source,
        ...['-c:v', 'libx265', '-preset', 'ultrafast'],
        ...['-x265-params', 'log-level=error:keyint=25:min-keyint=25:bframes=0', '-f', 'hevc'],
        join(dir.path, 'in.h265'),
      ]),
      ffmpeg([
        ...source,
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-bf', '0', '-f', 'h264'],
        join(dir.path, 'in.h264'),
      ]),
    ]);
    h265 = accessUnits(await readFile(join(dir.path, 'in.h265')), 'h265');
    h264 = accessUnits(await readFile(join(dir.path, 'in.h264')), 'h264');
    expect(h265.length).toBe(50);
  }, 60_000);

  afterAll(() => dir.remove());

  it('writes H.265 as stream_type 0x24, which ffprobe reads back as HEVC with every picture', async () => {
    const ts = writeTs(
      h265.map((au) => ({ data: Buffer.concat(au.nalus.flatMap((n) => [START, n])), pts: au.pts })),
      'h265',
    );
    // The PMT's elementary stream entry: stream_type, then the PID 0x100 with reserved bits.
    expect(ts.subarray(188, 376).includes(Buffer.from([0x24, 0xe1, 0x00]))).toBe(true);
    const path = join(dir.path, 'out.ts');
    await writeFile(path, ts);
    expect(await probeStreams(path)).toEqual([
      expect.objectContaining({ codec_name: 'hevc', width: 320, height: 180, nb_read_packets: '50' }),
    ]);
  });

  it('a snapshot of an H.265 hub is a JPEG of the newest picture at full size', async () => {
    const hub = new StreamHub('main', 'h265');
    for (const au of h265.slice(0, 40)) hub.pushVideo(au);
    const shot = await takeSnapshot(hub, 'ffmpeg');
    expect(shot).toMatchObject({ width: 320, height: 180 });
    const path = join(dir.path, 'shot.jpg');
    await writeFile(path, shot.jpeg);
    expect(await probeStreams(path)).toEqual([
      expect.objectContaining({ codec_name: 'mjpeg', width: 320, height: 180 }),
    ]);
  });

  it('a clip of H.265 is an MP4 (hvc1) ffprobe reads, with every picture and the stream’s timing', async () => {
    const path = join(dir.path, 'clip-h265.mp4');
    await clipOf(h265, 'h265', path);
    const [stream] = await probeStreams(path, ['-show_entries', 'format=duration']);
    expect(stream).toMatchObject({
      codec_name: 'hevc',
      codec_tag_string: 'hvc1',
      width: 320,
      height: 180,
      nb_read_packets: '50',
    });
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path],
    ]);
    expect(Number.parseFloat(stdout.toString())).toBeCloseTo(2, 1);
    // It decodes without a complaint.
    const decoded = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']);
    expect(decoded.stderr).toBe('');
  });

  it('a clip of H.264 is avc1 with every picture, and decodes without a complaint', async () => {
    const path = join(dir.path, 'clip-h264.mp4');
    await clipOf(h264, 'h264', path);
    expect(await probeStreams(path)).toEqual([
      expect.objectContaining({ codec_name: 'h264', codec_tag_string: 'avc1', nb_read_packets: '50' }),
    ]);
    const decoded = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']);
    expect(decoded.stderr).toBe('');
  });
});

/** An alarm's clip of `units`: the first half as its pre-roll, the rest live. */
async function clipOf(units: VideoAccessUnit[], codec: VideoCodec, path: string): Promise<void> {
  const hub = new StreamHub('main', codec);
  const clips = new ClipRecorder(hub, { preRollSeconds: 5, maxSeconds: 30 });
  clips.attach();
  for (const au of units.slice(0, 25)) hub.pushVideo(au);
  clips.begin(async () => path);
  for (const au of units.slice(25)) hub.pushVideo(au);
  expect(await clips.finish()).toMatchObject({ path, durationMs: 2000 });
}
