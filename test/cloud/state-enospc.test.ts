import { execFile } from 'node:child_process';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, prepareDevice, type TestDevice } from '../helpers/daemon.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';

const run = promisify(execFile);

/** Writes zeros into `path` until the file system says ENOSPC. */
async function fill(path: string): Promise<void> {
  const file = await open(path, 'w');
  const chunk = Buffer.alloc(16 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await file.close();
  }
}

interface Reported {
  version: number;
  state: { name: string };
  result: { version: number | null; applied: string[]; rejected: { key: string; code: string }[] };
}

// The data directory is a 2 MiB tmpfs (the suite runs as root in CI, as on the camera's own image).
describe('a full disk while saving desired state (ENOSPC)', () => {
  let broker: Mosquitto;
  let observer: Observer;
  let device: TestDevice;
  let daemon: DaemonProcess;
  let mounted = false;
  const topic = (suffix: string) => `cam/v1/${device.serial}/${suffix}`;
  const reported = (test: (r: Reported) => boolean) => (m: { topic: string; json: <T>() => T }) =>
    m.topic === topic('state/reported') && test(m.json<Reported>());

  beforeAll(async () => {
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/#']);
    device = await prepareDevice({ url: broker.url });
    await run('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', device.dataDir]);
    mounted = true;
  });
  afterAll(async () => {
    await daemon?.kill();
    await observer.close();
    await broker.stop();
    if (mounted) await run('umount', [device.dataDir]);
  });

  it('reports the document as rejected, records no version, and applies the next one once space is back', async () => {
    daemon = DaemonProcess.run(device.configPath);
    await observer.waitFor(
      reported(() => true),
      'first reported state',
    );

    const filler = join(device.dataDir, 'filler');
    await fill(filler);
    const refused = observer.next(
      reported((r) => r.result?.version === 5),
      'reported result for v5',
    );
    await observer.client.publishAsync(
      topic('state/desired'),
      JSON.stringify({ version: 5, state: { name: 'Full disk' } }),
      { qos: 1 },
    );
    const failed = (await refused).json<Reported>();
    expect(failed.version).toBe(0);
    expect(failed.state.name).not.toBe('Full disk');
    expect(failed.result.applied).toEqual([]);
    expect(failed.result.rejected).toEqual([
      expect.objectContaining({ key: '(document)', code: 'save_failed' }),
    ]);
    await daemon.waitForLog('desired state could not be saved; not applied');

    await rm(filler);
    const applied = observer.next(
      reported((r) => r.version === 6),
      'reported v6',
    );
    await observer.client.publishAsync(
      topic('state/desired'),
      JSON.stringify({ version: 6, state: { name: 'Room again' } }),
      { qos: 1 },
    );
    const ok = (await applied).json<Reported>();
    expect(ok.state.name).toBe('Room again');
    expect(ok.result).toMatchObject({ version: 6, applied: ['name'], rejected: [] });
    const onDisk = JSON.parse(await readFile(join(device.dataDir, 'state.json'), 'utf8'));
    expect(onDisk).toMatchObject({ desiredVersion: 6, settings: { name: 'Room again' } });
    expect(daemon.child.exitCode).toBeNull();
  });
});
