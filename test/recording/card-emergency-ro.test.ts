import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { run } from '../helpers/media.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import {
  alarmAfter,
  type LoopCard,
  loopCard,
  type RecordingDevice,
  startRecordingDevice,
  streamsLive,
} from './rig.js';

/**
 * What a dying SD card does: the kernel finds an I/O error and turns the file system read-only under
 * the open segment (ext4 `errors=remount-ro`). Here a real ext4 on a loop device, the error raised
 * through ext4's own `trigger_fs_error`. On this kernel `access(W_OK)` still says writable afterwards
 * (the mount shows `emergency_ro`), so a camera that trusted it flapped between readonly and ok.
 * Needs root (losetup, mount): without it this suite fails saying so (it is never skipped).
 */
describe('the card turned read-only by the kernel while a segment is written (ext4 on a loop device, as root): alarms and live video go on, and a good card is taken again', () => {
  const fixture = useBroker();
  let dir: TempDir;
  let card: string;
  let loop = '';
  let loopDevice: LoopCard | undefined;
  let cam: RecordingDevice;

  const storageEvent = (state: string) =>
    fixture.observer.next(
      (m) => m.topic === `cam/v1/${cam.device.serial}/evt/storage` && m.json().state === state,
      `evt/storage ${state}`,
      30000,
    );
  const states = () =>
    fixture.observer.seen
      .filter((m) => m.topic === `cam/v1/${cam.device.serial}/evt/storage`)
      .map((m) => m.json().state);

  beforeAll(async () => {
    dir = await tempDir();
    loopDevice = await loopCard(dir.path, ['-o', 'errors=remount-ro']);
    ({ card, loop } = loopDevice);
    cam = await startRecordingDevice(fixture.broker.url, {
      recording: { root: card, requireMount: true },
      settings: { recording: { mode: 'continuous' } },
    });
  }, 120_000);
  afterAll(async () => {
    await cam?.daemon.kill();
    await loopDevice?.detach();
    await dir?.remove();
  });

  it('is reported read-only once and stays so, live video and alarms unharmed; a good card in its place, recording resumes', async () => {
    await cam.segments(1);
    const readonly = storageEvent('readonly');
    await writeFile(`/sys/fs/ext4/${basename(loop)}/trigger_fs_error`, '1');
    await readonly;
    const failedAt = Date.now();
    // Live video goes on; meanwhile the card is checked every 300 ms and must not come back as ok.
    expect(await streamsLive(cam.rtsp('/main'))).toBe(true);
    // Alarms too: the test picture's square crosses every 30 s and raises one on its own.
    await alarmAfter(fixture.observer, cam.device.serial, failedAt, 'an alarm while the card is read-only');
    expect(states()).toEqual(['readonly']);

    // The owner takes the card out and puts a good one in (here the same device, made anew). A dry run
    // that repaired it with e2fsck instead saw the camera report it read-only again once, cause not
    // established (not reproduced here); the states the camera logged are shown if this wait fails.
    const absent = storageEvent('absent');
    await run('umount', [card]);
    await absent;
    await run('mkfs.ext4', ['-F', '-q', loop]);
    const ok = storageEvent('ok');
    await run('mount', ['-o', 'errors=remount-ro', loop, card]);
    await ok.catch((err: unknown) => {
      const states = cam.daemon.stdout.lines.filter((l) => l.includes('storage state'));
      throw new Error(`${String(err)}\nthe camera's storage states: ${states.slice(-5).join('\n')}`);
    });
    const segmentsBefore = (await cam.segments(1)).length;
    await cam.segments(segmentsBefore + 1);
    expect(states()).toEqual(['readonly', 'absent', 'ok']);
  }, 240_000);
});
