import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentEntry } from '../../src/recording/segment-writer.js';
import { run } from '../helpers/media.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { record, recordWithG711 } from './feed.js';

// Recorded segments played on their own by VLC (issue 12: "playable ... by ffmpeg, VLC and a browser"),
// headless: no interface, video and audio to VLC's dummy outputs. VLC refuses to run as root, so it
// runs as `nobody` (setpriv), the files made readable to it.

/** VLC's own account of playing a file: the decoders it chose, and whether it played to the end. */
async function playInVlc(path: string): Promise<{ video?: string; audio?: string; log: string }> {
  const { stdout, stderr } = await run('setpriv', [
    ...['--reuid=nobody', '--regid=nogroup', '--clear-groups'],
    ...['env', 'HOME=/tmp', 'cvlc', '-I', 'dummy', '--play-and-exit', '--vout', 'dummy', '--aout', 'dummy'],
    ...['-vv', path],
  ]);
  const log = `${stdout}${stderr}`;
  const module = (kind: string) => new RegExp(`using ${kind} decoder module "([^"]+)"`).exec(log)?.[1];
  return { video: module('video'), audio: module('audio'), log };
}

describe('recorded segments in VLC', () => {
  let dir: TempDir;
  let aac: SegmentEntry;
  let g711: SegmentEntry;

  beforeAll(async () => {
    if (process.getuid?.() !== 0)
      throw new Error('this test runs VLC as nobody through setpriv: it needs root');
    dir = await tempDir();
    aac = (await record(dir.path, 4, 3000)).closed[0] as SegmentEntry;
    const g711Dir = join(dir.path, 'g711');
    await mkdir(g711Dir);
    g711 = (await recordWithG711(g711Dir, 4, 3000)).closed[0] as SegmentEntry;
    await run('chmod', ['-R', 'a+rX', dir.path]);
    await chmod(dir.path, 0o755);
  }, 60_000);
  afterAll(() => dir?.remove());

  it('plays an H.264 + AAC segment to its end with both decoders', async () => {
    const played = await playInVlc(join(dir.path, 'card', 'DEV', aac.path));
    expect(played.video, played.log.slice(-2000)).toBe('avcodec');
    expect(played.audio, played.log.slice(-2000)).toMatch(/^(faad|avcodec)$/);
    expect(played.log).toContain('end of playlist');
    expect(played.log).not.toMatch(/no suitable decoder|mp4 demux error/);
  });

  it('plays an H.264 + G.711 segment to its end, the sound through its G.711 decoder', async () => {
    const played = await playInVlc(join(dir.path, 'g711', 'card', 'DEV', g711.path));
    expect(played.video, played.log.slice(-2000)).toBe('avcodec');
    expect(played.audio, played.log.slice(-2000)).toBe('g711');
    expect(played.log).toContain('end of playlist');
    expect(played.log).not.toMatch(/no suitable decoder|mp4 demux error/);
  });
});
