import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INDEX_FILE, RecordingIndex } from '../../src/recording/index-log.js';
import { isSegmentPath } from '../../src/recording/naming.js';

const line = (path: string) =>
  `${JSON.stringify({
    t: 'seg',
    path,
    start: 1,
    end: 2,
    bytes: 3,
    codec: 'avc1.42c01e',
    stream: 'main',
    kind: 'continuous',
    events: [],
  })}\n`;

describe('segment paths read from the card', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['2026-12-06/00/20261206T000000.000Z-20261206T000100.000Z.mp4', true],
    ['2026-12-06/00/20261206T000000.000Z-open.mp4', true],
    ['../../secrets.enc', false],
    ['/var/lib/ipcam-agent/secrets.enc', false],
    ['2026-12-06/00/../../../secrets.enc', false],
    ['2026-12-06/00/notes.txt', false],
  ])('%s is a segment path: %s', (path, ok) => {
    expect(isSegmentPath(path)).toBe(ok);
  });

  it('an index line naming a file outside the layout makes the index damaged (rebuilt from files), not a file to remove', async () => {
    dir = await mkdtemp(join(tmpdir(), 'index-paths-'));
    const index = new RecordingIndex(dir);
    await writeFile(
      join(dir, INDEX_FILE),
      line('2026-12-06/00/20261206T000000.000Z-20261206T000100.000Z.mp4'),
    );
    expect(await index.load()).toBe('ok');
    await writeFile(join(dir, INDEX_FILE), line('../../secrets.enc'));
    expect(await index.load()).toBe('corrupt');
  });
});
