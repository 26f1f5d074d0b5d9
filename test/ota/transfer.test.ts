import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
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
describe('firmware download over a real HTTPS server', () => {
  let broker: Mosquitto;
  let observer: Observer;
  let pki: Pki;
  let server: ImageServer;
  let image: string;
  let size: number;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/#']);
    pki = await makePki('unused');
    server = await ImageServer.start(pki.serverCert, pki.serverKey);
    image = await makeImage({ version: '1.5.0', versionCode: 10500, payloadBytes: 6 * 1024 * 1024 });
    size = (await stat(image)).size;
  });
  afterAll(async () => {
    await server.close();
    await observer.close();
    await broker.stop();
  });

  async function camera(): Promise<SimCamera> {
    const cam = await SimCamera.create(broker, { caFile: pki.caCert });
    const online = cam.online(observer);
    cam.start();
    onTestFailed(() => console.log(cam.log.stdout.lines.slice(-40).join('\n')));
    await online;
    return cam;
  }

  it('resumes with Range after the connection is cut at 50%, and installs the right image', async () => {
    const cam = await camera();
    const url = server.serve('/fw/cut.tar', image, { cutAfter: Math.floor(size / 2) });
    const document = await cam.release({ image, version: '1.5.0', versionCode: 10500, url });
    await cam.notify(observer, 'job-cut', document);
    const done = await cam.update(observer, 'job-cut', 'SUCCEEDED', undefined, 60000);
    expect(done.statusDetails.version).toBe('1.5.0');

    const requests = server.requests.filter((r) => r.path === '/fw/cut.tar');
    expect(requests).toHaveLength(2);
    expect(requests[0]?.range).toBeUndefined();
    const from = Number(/^bytes=(\d+)-$/.exec(requests[1]?.range ?? '')?.[1]);
    // It asks for what it lacks: no more than the server sent before the cut, and well past the start.
    expect(from).toBeGreaterThan(size / 4);
    expect(from).toBeLessThanOrEqual(Math.floor(size / 2));
    await cam.log.waitForLog('download interrupted; resuming', 45000);
    await cam.stop();
  });

  it('fails at verification when one byte is flipped, and installs nothing', async () => {
    const cam = await camera();
    const url = server.serve('/fw/flipped.tar', image, { flipAt: Math.floor(size / 3) });
    const document = await cam.release({ image, version: '1.5.0', versionCode: 10500, url });
    await cam.notify(observer, 'job-flip', document);
    const failed = await cam.update(observer, 'job-flip', 'FAILED');
    expect(failed.statusDetails).toMatchObject({ phase: 'verifying', reason: 'sha256_mismatch' });
    const phases = cam.updates(observer, 'job-flip').map((u) => u.statusDetails.phase);
    expect(phases).not.toContain('installing');
    // Nothing was unpacked or switched, the partial file is gone, the old firmware still answers.
    expect(existsSync(join(cam.dataDir, 'factory', 'slots'))).toBe(false);
    expect(await readdir(join(cam.dataDir, 'ota', 'download'))).toEqual([]);
    expect(await observer.request(cam.topic('cmd/getInfo'), {})).toMatchObject({ result: { fw: '1.4.2' } });
    await cam.stop();
  });
});
