import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseName } from '../../src/recording/naming.js';
import { signViewerToken } from '../../src/webrtc/token.js';
import { useBroker } from '../helpers/broker-fixture.js';
import { run } from '../helpers/media.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import {
  closedSegments,
  type LoopCard,
  loopCard,
  type RecordingDevice,
  segmentInProgress,
  startRecordingDevice,
  streamsLive,
} from './rig.js';

const cloud = generateKeyPairSync('ed25519');
const LABEL = 'IPCAMFMT';

/**
 * `cmd/formatStorage` on a real loop device mounted at the card's mount point. Losetup, mkfs and
 * mount need root: without it this suite fails saying so (it is never skipped). The test formats
 * ext4 (mkfs.vfat is not installed here) with a label the old file system did not have.
 */
describe('formatting the SD card on the owner’s confirmed request (loop device, as root)', () => {
  const fixture = useBroker();
  let dir: TempDir;
  let card: string;
  let loop = '';
  let loopDevice: LoopCard | undefined;
  let cam: RecordingDevice;

  const token = (extra: { sub?: string; rights?: ('live' | 'formatStorage')[] } = {}) =>
    signViewerToken(
      { sub: extra.sub ?? cam.device.serial, rights: extra.rights ?? ['formatStorage'], ttlSeconds: 300 },
      cloud.privateKey,
    );
  /** Like the observer's request, with room for a format on a loaded machine. */
  const request = async (
    body: unknown,
  ): Promise<{ ok: boolean; result?: unknown; error?: { code: string } }> => {
    const responseTopic = `test/replies/${randomUUID()}`;
    await fixture.observer.client.subscribeAsync(responseTopic, { qos: 1 });
    const answer = fixture.observer.next((m) => m.topic === responseTopic, 'formatStorage answer', 120000);
    await fixture.observer.client.publishAsync(
      `cam/v1/${cam.device.serial}/cmd/formatStorage`,
      JSON.stringify(body),
      { qos: 1, properties: { responseTopic, correlationData: Buffer.from(randomUUID()) } },
    );
    return (await answer).json() as { ok: boolean; result?: unknown; error?: { code: string } };
  };
  const mountLine = async () =>
    (await readFile('/proc/mounts', 'utf8')).split('\n').find((l) => l.split(' ')[1] === card);

  beforeAll(async () => {
    dir = await tempDir();
    loopDevice = await loopCard(dir.path);
    ({ card, loop } = loopDevice);
    cam = await startRecordingDevice(fixture.broker.url, {
      recording: { root: card, requireMount: true, format: { device: loop, fsType: 'ext4', label: LABEL } },
      settings: { recording: { mode: 'continuous' } },
      webrtc: { cloudKeys: [cloud.publicKey.export({ type: 'spki', format: 'pem' }).toString()] },
    });
  }, 120_000);
  afterAll(async () => {
    await cam?.daemon.kill();
    await loopDevice?.detach();
    await dir?.remove();
  });

  it('refuses without a valid token, formats with one, and recording resumes on the new file system', async () => {
    const before = await cam.segments(2);
    const old = before.map((s) => join(cam.deviceDir, s.path));
    for (const path of old) expect((await stat(path)).size).toBeGreaterThan(0);
    expect(await run('e2label', [loop]).then((r) => r.stdout.trim())).toBe('');

    // Refused: no token, a token for another device, a token without the right, a stranger's key.
    expect((await request({})).error?.code).toBe('bad_request');
    expect((await request({ confirm: '' })).error?.code).toBe('token_missing');
    expect((await request({ confirm: token({ sub: 'another-camera' }) })).error?.code).toBe(
      'token_wrong_device',
    );
    expect((await request({ confirm: token({ rights: ['live'] }) })).error?.code).toBe('token_no_right');
    const stranger = generateKeyPairSync('ed25519');
    expect(
      (
        await request({
          confirm: signViewerToken(
            { sub: cam.device.serial, rights: ['formatStorage'], ttlSeconds: 300 },
            stranger.privateKey,
          ),
        })
      ).error?.code,
    ).toBe('token_bad_signature');
    // Nothing happened to the card.
    for (const path of old) expect((await stat(path)).size).toBeGreaterThan(0);

    const topic = `cam/v1/${cam.device.serial}/evt/storage`;
    const away = fixture.observer.next(
      (m) => m.topic === topic && m.json().state === 'absent',
      'absent',
      60000,
    );
    const back = fixture.observer.next((m) => m.topic === topic && m.json().state === 'ok', 'ok', 120000);
    const confirm = token();
    const segmentsBefore = closedSegments(cam.daemon).length;
    // The segment in progress now is cut by the format (told by its name: see the next test).
    const cut = parseName(basename(await segmentInProgress(cam.deviceDir, 1, 30_000, 2)))?.start ?? 0;
    const formatted = await request({ confirm });
    expect(formatted).toMatchObject({
      ok: true,
      result: { storage: { state: 'ok', oldestRecording: null } },
    });
    await away;
    await back;

    // The old segments are gone, the card is mounted again with the new file system and label.
    for (const path of old) await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await mountLine())?.split(' ').slice(0, 3)).toEqual([loop, card, 'ext4']);
    expect(await run('e2label', [loop]).then((r) => r.stdout.trim())).toBe(LABEL);

    // Recording resumes: a new segment closes on the new file system.
    // (The segment cut by the format closes too, on the old card.)
    let fresh = closedSegments(cam.daemon).find((s) => s.start > cut);
    for (let n = segmentsBefore + 1; !fresh; n += 1)
      fresh = (await cam.segments(n, 90000)).find((s) => s.start > cut);
    expect((await stat(join(cam.deviceDir, fresh?.path ?? ''))).size).toBe(fresh?.bytes);
    expect(await streamsLive(cam.rtsp('/main'))).toBe(true);

    // The same token again: refused, and the card is not touched.
    expect((await request({ confirm })).error?.code).toBe('token_replayed');
    expect(await mountLine()).toBeDefined();
  }, 300_000);

  it('without CAP_SYS_ADMIN the command fails at the unmount, and the card records on as it was', async () => {
    await cam.daemon.kill();
    // The shipped unit's capability set, in small: umount runs without CAP_SYS_ADMIN.
    cam = await startRecordingDevice(fixture.broker.url, {
      recording: {
        root: card,
        requireMount: true,
        format: {
          device: loop,
          fsType: 'ext4',
          umountCommand: ['setpriv', '--bounding-set=-sys_admin', '--inh-caps=-sys_admin', '--', 'umount'],
        },
      },
      settings: { recording: { mode: 'continuous' } },
      webrtc: { cloudKeys: [cloud.publicKey.export({ type: 'spki', format: 'pem' }).toString()] },
    });
    const [kept] = await cam.segments(1);
    const path = join(cam.deviceDir, kept?.path ?? '');
    // The segment in progress when the format stops recording is cut and kept. It is told by its name,
    // not by Date.now(): a segment's start is its stream's time, which may run ahead of the wall clock
    // by up to a second after a burst from the encoder (a CI run counted the cut one as started after).
    const cut = parseName(basename(await segmentInProgress(cam.deviceDir, 1, 30_000, 2)))?.start ?? 0;
    const failed = await request({ confirm: token() });
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatchObject({ code: 'format_failed' });
    expect(String((failed.error as { message?: string }).message)).toMatch(/^unmount failed .*superuser/);
    expect((await stat(path)).size).toBe(kept?.bytes);
    expect((await mountLine())?.split(' ').slice(0, 3)).toEqual([loop, card, 'ext4']);
    expect(await run('e2label', [loop]).then((r) => r.stdout.trim())).toBe(LABEL);
    let fresh = closedSegments(cam.daemon).find((s) => s.start > cut);
    for (let n = 2; !fresh; n += 1) fresh = (await cam.segments(n, 90000)).find((s) => s.start > cut);
    expect((await stat(join(cam.deviceDir, fresh.path))).size).toBe(fresh.bytes);
    // Every segment closed on the card, the one cut for the format included, is still indexed.
    expect(cam.daemon.stdout.records().filter((r) => String(r.msg).includes('not indexed'))).toEqual([]);
    const listed = await fixture.observer.request(`cam/v1/${cam.device.serial}/cmd/recordings`, {
      from: new Date(cut - 3_600_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
    });
    const indexed = (listed.result as { spans: { segments: number }[] }).spans.reduce(
      (n, s) => n + s.segments,
      0,
    );
    const beforeFormat = closedSegments(cam.daemon).filter((s) => s.start <= cut);
    expect(indexed).toBeGreaterThanOrEqual(beforeFormat.length);
    // The first segment, and the one cut for the format.
    expect(beforeFormat.map((s) => s.start)).toEqual(expect.arrayContaining([kept?.start, cut]));

    // The card pulled out: nothing to format.
    const absent = fixture.observer.next(
      (m) => m.topic === `cam/v1/${cam.device.serial}/evt/storage` && m.json().state === 'absent',
      'absent',
      30000,
    );
    await run('umount', ['-l', card]);
    await absent;
    expect((await request({ confirm: token() })).error?.code).toBe('storage_absent');
  }, 300_000);
});
