import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { SimCamera } from './helpers/camera.js';
import { makeImage } from './helpers/firmware.js';
import { ImageServer } from './helpers/image-server.js';

// Real daemons beside other suites on CI's 2 cores: slow moments must not fail these.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });
describe('firmware upgrade in the simulator, end to end', () => {
  let broker: Mosquitto;
  let observer: Observer;
  let pki: Pki;
  let server: ImageServer;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/#']);
    pki = await makePki('unused');
    server = await ImageServer.start(pki.serverCert, pki.serverKey);
  });
  afterAll(async () => {
    await server.close();
    await observer.close();
    await broker.stop();
  });

  it('takes a signed job through every phase to SUCCEEDED, and info reports the new version', async () => {
    // Video on: "healthy" includes the new firmware's first keyframe.
    const camera = await SimCamera.create(
      broker,
      { caFile: pki.caCert, health: { timeoutMs: 60000 } },
      { media: { enabled: true, audio: { codec: 'none' } } },
    );
    const online = camera.online(observer);
    camera.start();
    onTestFailed(() =>
      console.log(camera.log.stdout.lines.slice(-40).join('\n'), camera.log.stderr.lines.join('\n')),
    );
    const info = (fw: string) => (m: { topic: string; json: () => Record<string, unknown> }) =>
      m.topic === camera.topic('info') && m.json().fw === fw;
    await online;

    const image = await makeImage({ version: '1.5.0', versionCode: 10500 });
    const url = server.serve('/fw/1.5.0.tar', image);
    const document = await camera.release({ image, version: '1.5.0', versionCode: 10500, url });
    const rebooted = observer.next(info('1.5.0'), 'info from the new slot', 90000);
    await camera.notify(observer, 'job-happy', document);

    const done = await camera.update(observer, 'job-happy', 'SUCCEEDED', undefined, 90000);
    expect(done.statusDetails).toMatchObject({ version: '1.5.0', versionCode: 10500 });
    await rebooted;

    const phases = camera
      .updates(observer, 'job-happy')
      .filter((u) => u.status === 'IN_PROGRESS')
      .map((u) => u.statusDetails.phase)
      .filter((phase, i, all) => phase !== all[i - 1]);
    expect(phases).toEqual(['downloading', 'verifying', 'installing', 'rebooting', 'confirming']);
    const pcts = camera
      .updates(observer, 'job-happy')
      .filter((u) => u.statusDetails.phase === 'downloading')
      .map((u) => u.statusDetails.pct);
    expect(pcts.at(0)).toBe(0);
    expect(pcts.at(-1)).toBe(100);

    const status = await observer.waitFor(
      (m) => m.topic === camera.topic('status') && m.json().fw === '1.5.0',
      'birth of the new firmware',
    );
    expect(status.json().state).toBe('online');
    expect(await camera.bootState()).toMatchObject({ primary: 'b', booted: 'b' });
    expect((await camera.bootState()).trial).toBeUndefined();
    // Each phase change is also an evt/ota event, delivered through the outbox.
    for (const step of ['downloading', 'verifying', 'installing', 'rebooting', 'confirming', 'SUCCEEDED']) {
      const event = await observer.waitFor(
        (m) => m.topic === camera.topic('evt/ota') && (m.json().phase ?? m.json().status) === step,
        `evt/ota ${step}`,
      );
      expect(event.json()).toMatchObject({ jobId: 'job-happy' });
    }
    // The same job announced again (a cloud retry) is answered from the record, not run again.
    const downloads = server.requests.length;
    const again = observer.next(
      (m) => m.topic === camera.topic('jobs/job-happy/update') && m.json().status === 'SUCCEEDED',
      'the final status again',
    );
    await camera.notify(observer, 'job-happy', document);
    expect((await again).json()).toMatchObject({ statusDetails: { version: '1.5.0' } });
    expect(server.requests.length).toBe(downloads);
    expect(await readdir(join(camera.dataDir, 'ota', 'download'))).toEqual([]);
    expect(camera.log.stdout.lines.some((l) => l.includes('simulated reboot'))).toBe(true);
    const kept = await camera.log.waitForLog('new firmware is healthy; kept', 45000);
    expect(JSON.parse(kept).checks).toEqual(['cloud', 'media']);
    await camera.stop();
  });
});
