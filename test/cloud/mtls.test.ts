import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, prepareDevice } from '../helpers/daemon.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';
import { makePki, type Pki } from '../helpers/pki.js';

describe('cloud link over TLS with client certificates', () => {
  let pki: Pki;
  let broker: Mosquitto;
  let observer: Observer;

  beforeAll(async () => {
    pki = await makePki('device');
    broker = await Mosquitto.start({
      tls: { caFile: pki.caCert, certFile: pki.serverCert, keyFile: pki.serverKey, requireClientCert: true },
    });
    observer = await Observer.connect(broker.url, ['cam/v1/+/status']);
  });
  afterAll(async () => {
    await observer.close();
    await broker.stop();
  });

  it('connects to a broker that requires a client certificate', async () => {
    const device = await prepareDevice({
      url: `mqtts://localhost:${broker.tlsPort}`,
      tls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey },
    });
    const daemon = DaemonProcess.run(device.configPath);
    const birth = await observer.waitFor(
      (m) => m.topic === `cam/v1/${device.serial}/status`,
      'birth over mTLS',
    );
    expect(birth.json().state).toBe('online');
    expect(await daemon.kill()).toEqual({ code: 0, signal: null });
    // The private key was loaded and used; no line of it reached the trace-level log.
    const keyLines = (await readFile(pki.clientKey, 'utf8')).split('\n').filter((l) => l.length > 20);
    expect(keyLines.length).toBeGreaterThan(0);
    const log = daemon.stdout.lines.join('\n');
    for (const line of keyLines) expect(log).not.toContain(line);
  });

  it('is refused by the broker without a client certificate', async () => {
    const device = await prepareDevice({
      url: `mqtts://localhost:${broker.tlsPort}`,
      tls: { caFile: pki.caCert },
    });
    const daemon = DaemonProcess.run(device.configPath);
    const line = await daemon.waitForLog('cloud broker refused our client certificate');
    expect(JSON.parse(line).level).toBe(50);
    await daemon.stdout.waitFor((l) => l.includes('"msg":"reconnecting"'), 'a retry');
    expect(observer.seen.some((m) => m.topic === `cam/v1/${device.serial}/status`)).toBe(false);
    await daemon.kill();
  });

  it('refuses a broker whose certificate it cannot verify, and says so', async () => {
    const device = await prepareDevice({
      url: `mqtts://localhost:${broker.tlsPort}`,
      tls: { caFile: pki.otherCaCert, certFile: pki.clientCert, keyFile: pki.clientKey },
    });
    const daemon = DaemonProcess.run(device.configPath);
    const line = await daemon.waitForLog('cloud broker certificate could not be verified');
    expect(JSON.parse(line).level).toBe(50);
    expect(line).not.toContain('BEGIN');
    expect(observer.seen.some((m) => m.topic === `cam/v1/${device.serial}/status`)).toBe(false);
    await daemon.kill();
  });
});
