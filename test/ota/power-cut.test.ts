import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { SimCamera } from './helpers/camera.js';
import { makeImage } from './helpers/firmware.js';
import { CloudGate, fileAppears } from './helpers/gate.js';
import { ImageServer } from './helpers/image-server.js';

const IMAGE_BYTES = 4 * 1024 * 1024;

/**
 * The daemon as a real process, killed with SIGKILL (a power cut) at chosen moments of a firmware
 * job. Each restart must end in a consistent state: the job finished on the new firmware, or the old
 * firmware running with a FAILED report.
 */

// Real daemons beside other suites on CI's 2 cores: slow moments must not fail these.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });
describe('power cuts during a firmware job', () => {
  let broker: Mosquitto;
  let observer: Observer;
  let pki: Pki;
  let server: ImageServer;
  let image: string;
  let gate: CloudGate;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    // A persistent session: what the camera reports while this observer is cut off is kept for it.
    observer = await Observer.connect(broker.url, ['cam/v1/#'], {
      clean: false,
      clientId: `obs-power-${process.pid}`,
      properties: { sessionExpiryInterval: 600 },
    });
    pki = await makePki('unused');
    server = await ImageServer.start(pki.serverCert, pki.serverKey);
    image = await makeImage({ version: '1.5.0', versionCode: 10500, payloadBytes: IMAGE_BYTES });
    gate = await CloudGate.start(broker.port);
  });
  afterAll(async () => {
    await gate.stop();
    await server.close();
    await observer.close();
    await broker.stop();
  });

  async function startCamera(ota: Record<string, unknown> = {}): Promise<SimCamera> {
    gate.open();
    const camera = await SimCamera.create(broker, { caFile: pki.caCert, ...ota });
    camera.brokerPort = gate.port;
    const online = camera.online(observer);
    camera.start();
    onTestFailed(() => console.log(camera.daemon?.stdout.lines.slice(-50).join('\n')));
    await online;
    return camera;
  }

  async function restart(camera: SimCamera): Promise<void> {
    camera.start();
    onTestFailed(() => console.log(camera.daemon?.stdout.lines.slice(-50).join('\n')));
  }

  it('killed during the download: resumes from the bytes on disk', async () => {
    const camera = await startCamera();
    const url = server.serve('/fw/killed-download.tar', image, { holdAfter: Math.floor(IMAGE_BYTES * 0.6) });
    const document = await camera.release({ image, version: '1.5.0', versionCode: 10500, url });
    const halfway = observer.next(
      (m) =>
        m.topic === camera.topic('jobs/job-dl/update') &&
        (m.json<{ statusDetails: { pct?: number } }>().statusDetails.pct ?? 0) >= 20,
      'download progress',
      45000,
    );
    await camera.notify(observer, 'job-dl', document);
    await halfway;
    await camera.log.kill('SIGKILL');
    server.release();
    const part = join(
      camera.dataDir,
      'ota',
      'download',
      `${document.artifact && (document.artifact as { sha256: string }).sha256}.part`,
    );
    const kept = (await stat(part)).size;
    expect(kept).toBeGreaterThan(0);

    await restart(camera);
    const done = await camera.update(observer, 'job-dl', 'SUCCEEDED', undefined, 60000);
    expect(done.statusDetails.version).toBe('1.5.0');
    const requests = server.requests.filter((r) => r.path === '/fw/killed-download.tar');
    expect(requests.map((r) => r.range)).toEqual([undefined, `bytes=${kept}-`]);
    await camera.log.waitForLog('download resumed from a partial file', 45000);
    await camera.stop();
  });

  it('killed during the install: installs again from the verified image, without downloading again', async () => {
    const markers = await mkdtemp(join(tmpdir(), 'hook-'));
    const hook = [process.execPath, resolve(import.meta.dirname, 'fixtures', 'hold-install.mjs'), markers];
    const camera = await startCamera({ abDir: { postInstall: hook } });
    const url = server.serve('/fw/killed-install.tar', image);
    const document = await camera.release({ image, version: '1.5.0', versionCode: 10500, url });
    const installing = camera.update(observer, 'job-inst', 'IN_PROGRESS', 'installing');
    await camera.notify(observer, 'job-inst', document);
    await installing;
    await fileAppears(join(markers, 'started'));
    await camera.log.kill('SIGKILL');
    // Cut mid-install: nothing switched, the old slot still boots.
    expect(existsSync(join(camera.dataDir, 'factory', 'slots', 'boot.json'))).toBe(false);

    await writeFile(join(markers, 'go'), '');
    await restart(camera);
    const done = await camera.update(observer, 'job-inst', 'SUCCEEDED', undefined, 60000);
    expect(done.statusDetails.version).toBe('1.5.0');
    expect(server.requests.filter((r) => r.path === '/fw/killed-install.tar')).toHaveLength(1);
    expect(await camera.bootState()).toMatchObject({ primary: 'b', booted: 'b' });
    await camera.stop();
  });

  it('killed after the switch, then the new firmware never comes online: rolled back, settings intact', async () => {
    const camera = await startCamera({ health: { timeoutMs: 1500 } });
    const reported = observer.next(
      (m) => m.topic === camera.topic('state/reported') && m.json().version === 7,
      'settings applied',
      45000,
    );
    await observer.client.publishAsync(
      camera.topic('state/desired'),
      JSON.stringify({ version: 7, state: { name: 'Porch', nightMode: 'on' } }),
      { qos: 1, retain: true },
    );
    await reported;
    const stateBefore = await readFile(join(camera.dataDir, 'state.json'), 'utf8');

    const url = server.serve('/fw/killed-switch.tar', image);
    const document = await camera.release({ image, version: '1.5.0', versionCode: 10500, url });
    await camera.notify(observer, 'job-sw', document);
    await camera.log.waitForLog('firmware switched; rebooting into it', 45000);
    await camera.log.kill('SIGKILL');
    expect(await camera.bootState()).toMatchObject({ primary: 'a', trial: { slot: 'b' } });

    // The new firmware cannot reach the cloud.
    gate.close();
    await restart(camera);
    await camera.log.waitForLog('new firmware is unhealthy; rolling back', 45000);
    await camera.log.waitForLog('new firmware was rolled back', 45000);
    const failed = camera.update(observer, 'job-sw', 'FAILED', undefined, 60000);
    const oldBirth = observer.next(
      (m) => m.topic === camera.topic('status') && m.json().state === 'online' && m.json().fw === '1.4.2',
      'the old firmware online again',
      45000,
    );
    gate.open();
    expect((await failed).statusDetails).toMatchObject({
      reason: 'rolled_back',
      cause: 'health_check_failed',
    });
    await oldBirth;
    const boot = await camera.bootState();
    expect(boot).toMatchObject({ primary: 'a', booted: 'a', fellBack: { slot: 'b' } });
    expect(boot.trial).toBeUndefined();
    expect(await readFile(join(camera.dataDir, 'state.json'), 'utf8')).toBe(stateBefore);
    const afterReboot = await observer.request(camera.topic('cmd/getInfo'), {});
    expect(afterReboot).toMatchObject({ ok: true, result: { fw: '1.4.2' } });
    await camera.stop();
  });

  it('killed again while confirming until the boot attempts run out: the boot step falls back', async () => {
    const camera = await startCamera({ abDir: { bootAttempts: 1 }, health: { timeoutMs: 60000 } });
    const url = server.serve('/fw/crash-loop.tar', image);
    const document = await camera.release({ image, version: '1.5.0', versionCode: 10500, url });
    const installing = camera.update(observer, 'job-loop', 'IN_PROGRESS', 'installing');
    await camera.notify(observer, 'job-loop', document);
    await installing;
    // From here on the cloud is out of reach: the new slot's one boot waits for it, and is cut short.
    gate.close();
    await camera.log.waitForLog('confirming new firmware', 45000);
    await camera.log.kill('SIGKILL');
    expect((await camera.bootState()).trial).toMatchObject({ slot: 'b', triesLeft: 0 });

    await restart(camera);
    await camera.log.waitForLog('A/B boot fell back', 45000);
    const failed = camera.update(observer, 'job-loop', 'FAILED', undefined, 60000);
    gate.open();
    expect((await failed).statusDetails).toMatchObject({
      reason: 'rolled_back',
      cause: 'boot_attempts_exhausted',
    });
    expect(await camera.bootState()).toMatchObject({ primary: 'a', booted: 'a' });
    await camera.stop();
    expect(await readdir(join(camera.dataDir, 'ota', 'download'))).toEqual([]);
  });
});
