import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountedReadOnly, probeCard } from '../../src/recording/card.js';
import { run } from '../helpers/media.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';

// Which mount holds the card's folder, and is it read-only, from a mounts table in /proc's format.
describe('mountedReadOnly', () => {
  let dir: TempDir;
  let card: string;
  beforeAll(async () => {
    dir = await tempDir();
    card = join(dir.path, 'sd card', 'rec');
    await mkdir(card, { recursive: true });
  });
  afterAll(() => dir.remove());

  const table = async (...lines: string[]) => {
    const path = join(dir.path, `mounts-${lines.length}-${Math.random()}`);
    await writeFile(path, `${lines.join('\n')}\n`);
    return path;
  };
  const escaped = (path: string) => path.replace(/ /g, '\\040');

  it('takes the options of the longest mount point holding the folder, its spaces escaped as /proc does', async () => {
    const sd = escaped(join(dir.path, 'sd card'));
    const ro = await table('/dev/vda / ext4 rw,relatime 0 0', `/dev/mmcblk0p1 ${sd} vfat ro,relatime 0 0`);
    expect(await mountedReadOnly(card, ro)).toBe(true);
    const rw = await table('/dev/vda / ext4 ro,relatime 0 0', `/dev/mmcblk0p1 ${sd} vfat rw,relatime 0 0`);
    expect(await mountedReadOnly(card, rw)).toBe(false);
  });

  it('sees a file system the kernel made read-only after an error (emergency_ro next to rw)', async () => {
    const sd = escaped(join(dir.path, 'sd card'));
    const mounts = await table(`/dev/loop0 ${sd} ext4 rw,relatime,errors=remount-ro,emergency_ro 0 0`);
    expect(await mountedReadOnly(card, mounts)).toBe(true);
  });

  it('does not take a sibling whose name starts the same for the mount holding the folder', async () => {
    const mounts = await table(
      '/dev/vda / ext4 rw 0 0',
      `/dev/sdb ${escaped(join(dir.path, 'sd'))} ext4 ro 0 0`,
    );
    expect(await mountedReadOnly(card, mounts)).toBe(false);
  });

  it('the mount on top of equal mount points counts; an unreadable table is not read-only', async () => {
    const sd = escaped(join(dir.path, 'sd card'));
    const stacked = await table(`/dev/a ${sd} ext4 ro 0 0`, `/dev/b ${sd} ext4 rw 0 0`);
    expect(await mountedReadOnly(card, stacked)).toBe(false);
    expect(await mountedReadOnly(card, join(dir.path, 'no-such-table'))).toBe(false);
  });
});

// A card taken out while it is being looked at (a CI dry run saw `readonly`, then `ok`, then `absent`):
// the space and the writability were measured half on the card and half on the root file system under
// the empty mount point. A read-only tmpfs stands for the card (needs root, as the loop-device suites).
describe('probeCard while the card is taken out', () => {
  let dir: TempDir;
  let card: string;
  beforeAll(async () => {
    dir = await tempDir();
    card = join(dir.path, 'card');
    await mkdir(card);
  });
  afterAll(async () => {
    await run('umount', [card]).catch(() => undefined);
    await dir.remove();
  });

  it('says absent, not the state of what was under the mount point', async () => {
    await run('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', card]);
    expect((await probeCard(card, true)).state).toBe('readonly');
    const during = await probeCard(card, true, () => run('umount', [card]).then(() => undefined));
    expect(during).toMatchObject({ state: 'absent', reason: 'not mounted' });
    expect((await probeCard(card, true)).state).toBe('absent');
  });
});
