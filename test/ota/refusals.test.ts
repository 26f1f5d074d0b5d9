import { execFile } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { buildJobDocument, simReleaseKeyPath } from '../../src/ota/release.js';
import { signDocument } from '../../src/ota/signature.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { SimCamera } from './helpers/camera.js';
import { makeImage } from './helpers/firmware.js';
import { ImageServer } from './helpers/image-server.js';

// Real daemons beside other suites on CI's 2 cores: slow moments must not fail these.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });
const run = promisify(execFile);

describe('firmware jobs refused before any download', () => {
  let broker: Mosquitto;
  let observer: Observer;
  let pki: Pki;
  let server: ImageServer;
  let camera: SimCamera;
  let image: string;
  let url: string;
  const sign = async (fields: { version: string; versionCode: number; model?: string }) =>
    buildJobDocument({
      image,
      url,
      format: 'tar',
      model: fields.model ?? 'IPC-SIM',
      version: fields.version,
      versionCode: fields.versionCode,
      privateKey: createPrivateKey(await readFile(simReleaseKeyPath(camera.dataDir), 'utf8')),
    });
  const refused = async (jobId: string, document: unknown) => {
    const update = camera.update(observer, jobId, 'REJECTED');
    await camera.notify(observer, jobId, document);
    return (await update).statusDetails;
  };

  beforeAll(async () => {
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/#']);
    pki = await makePki('unused');
    server = await ImageServer.start(pki.serverCert, pki.serverKey);
    camera = await SimCamera.create(broker, { caFile: pki.caCert });
    const online = camera.online(observer);
    camera.start();
    await online.catch((err: unknown) => {
      console.log(camera.log.stdout.lines.join('\n'), camera.log.stderr.lines.join('\n'));
      throw err;
    });
    image = await makeImage({ version: '1.5.0', versionCode: 10500 });
    url = server.serve('/fw/refused.tar', image);
  });
  afterAll(async () => {
    await camera.stop();
    await server.close();
    await observer.close();
    await broker.stop();
  });

  it('refuses a tampered document, an unknown key and a wrong model, each with its reason', async () => {
    onTestFailed(() => console.log(camera.log.stdout.lines.slice(-30).join('\n')));
    const good = await sign({ version: '1.5.0', versionCode: 10500 });
    const tampered = { ...good, artifact: { ...(good.artifact as object), url: server.url('/evil.tar') } };
    expect(await refused('job-tampered', tampered)).toMatchObject({ reason: 'bad_signature' });

    // A key made as docs/ota.md says, but not one this camera trusts.
    const strangerKey = join(await mkdtemp(join(tmpdir(), 'key-')), 'release.pem');
    await run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', strangerKey]);
    const foreign = await camera.release({
      image,
      version: '1.5.0',
      versionCode: 10500,
      url,
      extra: ['--key', strangerKey],
    });
    expect(await refused('job-foreign', foreign)).toMatchObject({ reason: 'unknown_key' });

    expect(
      await refused('job-model', await sign({ version: '1.5.0', versionCode: 10500, model: 'IPC-9000' })),
    ).toMatchObject({ reason: 'wrong_model' });
    expect(server.requests).toEqual([]);
    // The refusal reaches MQTT before its log line may have been read from the daemon's stdout: awaited.
    const log = await camera.log.stdout.waitFor(
      (l) => l.includes('"jobId":"job-model"') && l.includes('rejected'),
      'the job-model refusal logged',
    );
    expect(log).toContain('"reason":"wrong_model"');
  });

  it('refuses the running version and an older one', async () => {
    expect(await refused('job-same', await sign({ version: '1.4.2', versionCode: 10402 }))).toMatchObject({
      reason: 'version_not_newer',
    });
    expect(await refused('job-older', await sign({ version: '1.3.0', versionCode: 10300 }))).toMatchObject({
      reason: 'version_not_newer',
    });
    expect(server.requests).toEqual([]);
  });

  it('refuses an image larger than the free space, before downloading', async () => {
    const key = createPrivateKey(await readFile(simReleaseKeyPath(camera.dataDir), 'utf8'));
    const huge = signDocument(
      {
        op: 'firmware',
        model: 'IPC-SIM',
        version: '1.5.0',
        versionCode: 10500,
        // 4 PiB: no test machine has that much free.
        artifact: { url, size: 2 ** 52, sha256: 'a'.repeat(64), format: 'tar' },
      },
      key,
      ((await sign({ version: '1.5.0', versionCode: 10500 })).signature as { keyId: string }).keyId,
    );
    const details = await refused('job-huge', huge);
    expect(details.reason).toBe('insufficient_space');
    expect(server.requests).toEqual([]);
  });

  it('answers malformed notifications without crashing', async () => {
    await observer.client.publishAsync(camera.topic('jobs/notify'), 'not json', { qos: 1 });
    await observer.client.publishAsync(camera.topic('jobs/notify'), JSON.stringify({ jobId: 'a/b#' }), {
      qos: 1,
    });
    expect(await refused('job-shapeless', { op: 'firmware', version: 12 })).toMatchObject({
      reason: 'invalid_document',
    });
    const plain = await buildJobDocument({
      image,
      url: url.replace('https:', 'http:'),
      format: 'tar',
      model: 'IPC-SIM',
      version: '1.5.0',
      versionCode: 10500,
      privateKey: createPrivateKey(await readFile(simReleaseKeyPath(camera.dataDir), 'utf8')),
    });
    expect(await refused('job-http', plain)).toMatchObject({ reason: 'insecure_url' });
    expect(camera.log.child.exitCode).toBeNull();
    expect(camera.log.stdout.lines.filter((l) => l.includes('no usable jobId')).length).toBe(2);
  });

  it('rejects a second job while one runs', async () => {
    const held = server.serve('/fw/held.tar', image, { holdAfter: 64 * 1024 });
    const first = await buildJobDocument({
      image,
      url: held,
      format: 'tar',
      model: 'IPC-SIM',
      version: '1.5.0',
      versionCode: 10500,
      privateKey: createPrivateKey(await readFile(simReleaseKeyPath(camera.dataDir), 'utf8')),
    });
    const downloading = camera.update(observer, 'job-first', 'IN_PROGRESS', 'downloading');
    await camera.notify(observer, 'job-first', first);
    await downloading;
    expect(await refused('job-second', await sign({ version: '1.6.0', versionCode: 10600 }))).toMatchObject({
      reason: 'busy',
    });
  });
});

describe('firmware server certificate', () => {
  it('fails the job when the server is not signed by the configured CA', async () => {
    const broker = await Mosquitto.start();
    const observer = await Observer.connect(broker.url, ['cam/v1/#']);
    const pki = await makePki('unused');
    const server = await ImageServer.start(pki.serverCert, pki.serverKey);
    const camera = await SimCamera.create(broker, { caFile: pki.otherCaCert });
    try {
      const online = camera.online(observer);
      camera.start();
      await online;
      const image = await makeImage({ version: '1.5.0', versionCode: 10500 });
      const url = server.serve('/fw/1.5.0.tar', image);
      const document = await camera.release({ image, version: '1.5.0', versionCode: 10500, url });
      const failed = camera.update(observer, 'job-mitm', 'FAILED');
      await camera.notify(observer, 'job-mitm', document);
      expect((await failed).statusDetails).toMatchObject({ phase: 'downloading', reason: 'tls_untrusted' });
      expect(server.requests).toEqual([]);
    } finally {
      await camera.stop();
      await server.close();
      await observer.close();
      await broker.stop();
    }
  });
});
