import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClipRecorder } from '../../src/alarms/clip.js';
import { StreamHub } from '../../src/media/hub.js';
import type { VideoAccessUnit } from '../../src/media/types.js';
import { lengthPrefixed } from '../../src/recording/mp4/fragment.js';
import { framemd5, probeStreams, run, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { frameNumber, numberedFrame, PPS_360P, SPS_360P } from '../helpers/numbered-frames.js';

const FPS = 25;
/** A keyframe every second. */
const SHAPE = { fps: FPS, gop: FPS, keyframeBytes: 2000, frameBytes: 300 };
/** Frame `n`; `restart` shifts its timestamps back as a source that started again would. */
const frame = (n: number, restart?: { ptsBase: number; atBase: number }): VideoAccessUnit => {
  const au = numberedFrame(n, { ...SHAPE, ptsBase: restart?.ptsBase ?? 0 });
  return restart ? { ...au, at: au.at + restart.atBase } : au;
};
const seconds = (s: number) => s * FPS;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function feed(hub: StreamHub, from: number, to: number, restart?: { ptsBase: number; atBase: number }): void {
  for (let n = from; n < to; n++) hub.pushVideo(frame(n, restart));
}

/**
 * The frames in a clip file, as ffmpeg reads them (`-c copy`, one MD5 per packet), by number: each
 * packet must be one whole frame of the feed, byte for byte.
 */
async function framesIn(path: string, candidates: number[] | VideoAccessUnit[]): Promise<number[]> {
  const byMd5 = new Map<string, number>();
  for (const c of candidates) {
    const au = typeof c === 'number' ? frame(c) : c;
    byMd5.set(md5(Buffer.concat(lengthPrefixed(au.nalus).parts)), frameNumber(au));
  }
  const args = ['-v', 'error', '-i', path, '-map', '0:v', '-c', 'copy', '-f', 'framemd5', '-'];
  const { stdout } = await run('ffmpeg', args);
  return framemd5(stdout).map(({ md5: sum }) => byMd5.get(sum) ?? -1);
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

async function durationOf(path: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'csv=p=0',
    path,
  ]);
  return Number.parseFloat(stdout.toString());
}

describe('an alarm clip is written as the alarm goes: pre-roll, then live frames', () => {
  let dir: TempDir;
  let opened: number[];
  let hub: StreamHub;
  let clips: ClipRecorder;
  const openFile = (name: string) => async (expectedBytes: number) => {
    opened.push(expectedBytes);
    return join(dir.path, name);
  };

  /** A main hub with a clip recorder attached, as the alarm service has them with alarm pictures on. */
  const attach = (preRollSeconds: number, maxSeconds: number) => {
    hub = new StreamHub('main');
    clips = new ClipRecorder(hub, { preRollSeconds, maxSeconds });
    clips.attach();
  };

  beforeEach(async () => {
    dir = await tempDir();
    opened = [];
  });
  afterEach(() => dir.remove());

  it('starts at the keyframe at or before the pre-roll and ends with the newest frame', async () => {
    attach(3, 30);
    feed(hub, 0, seconds(8) + 10);
    clips.begin(openFile('a.mp4'));
    expect(clips.recording).toBe(true);
    // The alarm lasts 12 s: far longer than the two GOPs the hub keeps for viewers.
    feed(hub, seconds(8) + 10, seconds(20) + 5);
    const file = await clips.finish();
    expect(clips.recording).toBe(false);
    expect(file?.path).toBe(join(dir.path, 'a.mp4'));
    // 8.4 s - 3 s = 5.4 s: the keyframe at 5 s; every frame from there to the newest, once, in order.
    expect(await framesIn(join(dir.path, 'a.mp4'), range(0, seconds(21)))).toEqual(
      range(seconds(5), seconds(20) + 5),
    );
    // 15.2 s of frames; the last one lasts as long as the one before it.
    expect(file?.durationMs).toBe(15_200);
    expect(await durationOf(join(dir.path, 'a.mp4'))).toBeCloseTo(15.2, 1);
    expect((await stat(join(dir.path, 'a.mp4'))).mode & 0o777).toBe(0o600);
    // The free-space check was told what 33 s at the pre-roll's rate come to (3.4 s of it were ~36 kB).
    expect(opened).toHaveLength(1);
    expect(opened[0]).toBeGreaterThan(300_000);
    expect(opened[0]).toBeLessThan(500_000);
  });

  it('holds only the pre-roll in the hub while it writes, and stops at pre-roll plus maxSeconds', async () => {
    attach(2, 3);
    feed(hub, 0, seconds(5) + 12);
    clips.begin(openFile('b.mp4'));
    feed(hub, seconds(5) + 12, seconds(30) + 12);
    // The hub keeps what the pre-roll needs (whole GOPs), not the alarm: the clip went to the file.
    expect(frameNumber(hub.recent(60).video[0] as VideoAccessUnit)).toBe(seconds(28));
    const file = await clips.finish();
    // From the keyframe at 3 s, 5 s of stream: the first seconds of the alarm are what is kept.
    expect(await framesIn(join(dir.path, 'b.mp4'), range(0, seconds(31)))).toEqual(
      range(seconds(3), seconds(8)),
    );
    expect(file?.durationMs).toBe(5000);
  });

  it('ends with the last frame before a source restart (time went back) mid-alarm', async () => {
    attach(2, 30);
    feed(hub, 0, seconds(10));
    clips.begin(openFile('c.mp4'));
    feed(hub, seconds(10), seconds(12));
    hub.reset();
    feed(hub, 0, seconds(3), { ptsBase: 0, atBase: 20_000 });
    await clips.finish();
    // 9.96 s - 2 s: from the keyframe at 7 s; nothing after the restart.
    expect(await framesIn(join(dir.path, 'c.mp4'), range(0, seconds(12)))).toEqual(
      range(seconds(7), seconds(12)),
    );
  });

  it('removes its file when cancelled, and keeps nothing extra once detached', async () => {
    attach(4, 30);
    const listening = hub.listenerCount('video');
    feed(hub, 0, seconds(6));
    clips.begin(openFile('d.mp4'));
    feed(hub, seconds(6), seconds(9));
    // The file is there, being written, when the owner turns alarm pictures off.
    await expect.poll(() => readdir(dir.path)).toEqual(['d.mp4']);
    const cancelled = clips.cancel();
    expect(clips.recording).toBe(false);
    expect(await clips.finish()).toBeUndefined();
    // Once the cancel resolves, the file is gone: no poll.
    await cancelled;
    expect(await readdir(dir.path)).toEqual([]);
    expect(hub.listenerCount('video')).toBe(listening);
    expect(hub.listenerCount('track')).toBe(0);
    await clips.detach();
    feed(hub, seconds(9), seconds(12) + 1);
    // Without the clip's claim the hub keeps two GOPs for viewers: from 11 s.
    expect(frameNumber(hub.recent(60).video[0] as VideoAccessUnit)).toBe(seconds(11));
  });

  it('stops listening when the pre-roll alone reaches the limit (a GOP longer than the clip)', async () => {
    hub = new StreamHub('main');
    // One keyframe every 8 s; a clip of 2 s + 1 s.
    clips = new ClipRecorder(hub, { preRollSeconds: 2, maxSeconds: 1 });
    clips.attach();
    const long = (n: number) => numberedFrame(n, { ...SHAPE, gop: seconds(8) });
    for (let n = 0; n < seconds(6); n += 1) hub.pushVideo(long(n));
    clips.begin(openFile('g.mp4'));
    expect(hub.listenerCount('video')).toBe(0);
    expect(hub.listenerCount('track')).toBe(0);
    const file = await clips.finish();
    expect(file?.durationMs).toBe(3000);
  });

  it('starts its pre-roll at the first keyframe of the resolution in force (the track its file declares)', async () => {
    attach(4, 30);
    // 1080p until 3 s, then 640x360 from its keyframe at 3 s.
    const at = (n: number) => {
      const au = frame(n);
      return n >= seconds(3) && au.keyframe
        ? { ...au, nalus: [SPS_360P, PPS_360P, au.nalus.at(-1) as Buffer] }
        : au;
    };
    const fed: VideoAccessUnit[] = [];
    for (let n = 0; n < seconds(5); n += 1) fed.push(at(n));
    for (const au of fed) hub.pushVideo(au);
    clips.begin(openFile('h.mp4'));
    await clips.finish();
    const path = join(dir.path, 'h.mp4');
    // 4.96 s - 4 s reaches back to the keyframe at 0 s, of the old resolution: the clip starts at the new one's.
    expect(await framesIn(path, fed)).toEqual(range(seconds(3), seconds(5)));
    expect(await probeStreams(path)).toEqual([expect.objectContaining({ width: 640, height: 360 })]);
  });

  it('opens no file when the stream gives no keyframe before the alarm ends', async () => {
    attach(2, 30);
    clips.begin(openFile('e.mp4'));
    hub.pushVideo(frame(3));
    expect(await clips.finish()).toBeUndefined();
    expect(opened).toEqual([]);
    expect(await readdir(dir.path)).toEqual([]);
  });

  it('fails, leaving no file, when its file cannot be had or written', async () => {
    attach(2, 30);
    feed(hub, 0, seconds(3));
    clips.begin(async () => {
      throw new Error('not enough free space for media');
    });
    feed(hub, seconds(3), seconds(4));
    await expect(clips.finish()).rejects.toThrow(/not enough free space/);
    // A folder that is not there: the open fails.
    clips.begin(async () => join(dir.path, 'gone', 'f.mp4'));
    feed(hub, seconds(4), seconds(6));
    await expect(clips.finish()).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir.path)).toEqual([]);
  });
});
