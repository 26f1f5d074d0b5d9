import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SplitAccessUnit } from '../../src/media/au-splitter.js';
import { StreamHub } from '../../src/media/hub.js';
import { ffmpeg, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { split } from '../helpers/splitter.js';

const GOP = 10;

/** `gops` GOPs of a small H.264 stream at `size`, made by ffmpeg, as the pipe source splits them. */
async function stream(dir: TempDir, size: string, gops: number): Promise<SplitAccessUnit[]> {
  const file = join(dir.path, `${size}.h264`);
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=10`, '-frames:v', String(gops * GOP)],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', String(GOP), '-keyint_min', String(GOP)],
    ...['-sc_threshold', '0', '-f', 'h264', file],
  ]);
  return split(await readFile(file)).aus;
}

function feed(hub: StreamHub, aus: SplitAccessUnit[], from: number): number {
  aus.forEach((au, i) => {
    hub.pushVideo({ kind: 'video', codec: 'h264', ...au, pts: (from + i) * 9000, at: from + i });
  });
  return from + aus.length;
}

const keyframes = (aus: { keyframe: boolean }[]) => aus.flatMap((au, i) => (au.keyframe ? [i] : []));

describe('the GOP before the current one, for a viewer that joins just after a keyframe', () => {
  let dir: TempDir;
  let small: SplitAccessUnit[];
  let large: SplitAccessUnit[];

  beforeAll(async () => {
    dir = await tempDir();
    small = await stream(dir, '160x90', 3);
    large = await stream(dir, '320x180', 2);
  }, 30_000);
  afterAll(() => dir?.remove());

  it('is added when fewer frames than asked came since the keyframe, and not otherwise', () => {
    const hub = new StreamHub('main');
    // Two whole GOPs and three frames of the third.
    feed(hub, small.slice(0, 2 * GOP + 3), 0);
    const plenty = { frames: 4, maxBytes: 1 << 30 };
    expect(hub.cachedGop().video).toHaveLength(3);
    expect(hub.cachedGop({ ...plenty, frames: 3 }).video).toHaveLength(3);
    const joined = hub.cachedGop(plenty).video;
    expect(joined).toHaveLength(GOP + 3);
    expect(keyframes(joined)).toEqual([0, GOP]);
    expect(joined.map((au) => au.pts)).toEqual(joined.map((_, i) => (GOP + i) * 9000));
  });

  it('is not added past the byte budget', () => {
    const hub = new StreamHub('main');
    feed(hub, small.slice(0, GOP + 2), 0);
    const bytes = (aus: { nalus: Buffer[] }[]) =>
      aus.reduce((sum, au) => sum + au.nalus.reduce((s, n) => s + n.length, 0), 0);
    const both = bytes(hub.cachedGop({ frames: 5, maxBytes: 1 << 30 }).video);
    expect(hub.cachedGop({ frames: 5, maxBytes: both }).video).toHaveLength(GOP + 2);
    expect(hub.cachedGop({ frames: 5, maxBytes: both - 1 }).video).toHaveLength(2);
  });

  it('is not added across a change of parameter sets (a new resolution), nor after a reset', () => {
    const hub = new StreamHub('main');
    let pts = feed(hub, small.slice(0, GOP), 0);
    pts = feed(hub, large.slice(0, 2), pts);
    const plenty = { frames: 5, maxBytes: 1 << 30 };
    expect(hub.video).toMatchObject({ width: 320, height: 180 });
    expect(hub.cachedGop(plenty).video).toHaveLength(2);
    // A whole GOP at the new size, then two frames: now the GOP before is of the same stream.
    pts = feed(hub, large.slice(2, GOP + 2), pts);
    expect(hub.cachedGop(plenty).video).toHaveLength(GOP + 2);
    hub.reset();
    feed(hub, large.slice(0, 2), pts);
    expect(hub.cachedGop(plenty).video).toHaveLength(2);
  });
});
