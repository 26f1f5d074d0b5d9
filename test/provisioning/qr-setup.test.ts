import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatWifiQr } from '../../src/provisioning/qr-payload.js';
import { BIND_TOKEN_TTL_MS, BindTokens } from '../../src/sim/bind-tokens.js';
import { SimCloud } from '../../src/sim/cloud.js';
import { captureLog } from '../core/fixtures.js';
import { useBroker } from '../helpers/broker-fixture.js';
import { DaemonProcess, prepareDevice, type TestDevice } from '../helpers/daemon.js';
import { SMALL_STREAMS } from '../helpers/media.js';
import { ffmpeg, type TempDir, tempDir } from '../helpers/media-fixtures.js';

/**
 * The phone shows four codes to the camera's lens, one after another (4 s each, then the video
 * loops): a code that is no Wi-Fi code, the right network with a wrong password, the right password
 * with an expired bind token, then everything right. The camera must fail the first two with their reasons, stay ready for the
 * next code, and end up on the network and bound through Mosquitto.
 */
describe('QR code setup through the camera’s own frames', () => {
  const fixture = useBroker();
  let dir: TempDir;
  let device: TestDevice;
  let daemon: DaemonProcess;
  let cloud: SimCloud;
  let clock = Date.now();
  const tokens = new BindTokens(() => clock);
  let goodToken: string;
  let expiredToken: string;

  beforeAll(async () => {
    dir = await tempDir();
    expiredToken = tokens.issue();
    clock += BIND_TOKEN_TTL_MS + 1;
    goodToken = tokens.issue();
    cloud = await SimCloud.start(fixture.broker.url, tokens, captureLog().log);
    const codes = [
      'https://example.com/not-a-wifi-code',
      formatWifiQr({
        security: 'WPA',
        ssid: 'HomeNet',
        password: 'wrong horse',
        bindToken: 'bt-for-the-wrong-password',
        region: 'eu',
      }),
      formatWifiQr({
        security: 'WPA',
        ssid: 'HomeNet',
        password: 'correct horse',
        bindToken: expiredToken,
        region: 'eu',
      }),
      formatWifiQr({
        security: 'WPA',
        ssid: 'HomeNet',
        password: 'correct horse',
        bindToken: goodToken,
        region: 'eu',
      }),
    ];
    for (const [i, code] of codes.entries()) {
      await QRCode.toFile(join(dir.path, `qr${i}.png`), code, { width: 300, margin: 4 });
    }
    const video = join(dir.path, 'phone.mp4');
    await ffmpeg([
      ...['-f', 'lavfi', '-i', 'smptehdbars=size=640x360:rate=15'],
      ...codes.flatMap((_, i) => ['-i', join(dir.path, `qr${i}.png`)]),
      '-filter_complex',
      // Each code in view for 4 s, one after the other.
      codes
        .map((_, i) => {
          const input = i === 0 ? '[0]' : `[v${i}]`;
          const output = i === codes.length - 1 ? '' : `[v${i + 1}]`;
          return `${input}[${i + 1}]overlay=(W-w)/2:(H-h)/2:enable='between(t,${4 * i},${4 * i + 4})'${output}`;
        })
        .join(';'),
      ...[
        '-t',
        String(4 * codes.length),
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-b:v',
        '600k',
        '-pix_fmt',
        'yuv420p',
        video,
      ],
    ]);
    device = await prepareDevice(
      { url: fixture.broker.url },
      {
        log: { level: 'debug' },
        media: { enabled: true, source: { kind: 'file', path: video } },
        provisioning: { enabled: true, softap: { whileWaiting: false } },
        hardware: { backend: 'sim', statusLed: { line: 18 } },
        wifi: { backend: 'sim' },
      },
    );
    // Small streams: a 1080p encode would take most of CI's two cores.
    await writeFile(
      join(device.dataDir, 'state.json'),
      JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
    );
    daemon = DaemonProcess.run(device.configPath);
  }, 60_000);

  afterAll(async () => {
    await daemon?.kill();
    await cloud?.stop();
    await dir?.remove();
  });

  const provisioningEvents = () =>
    fixture.observer.seen
      .filter((m) => m.topic === `cam/v1/${device.serial}/evt/provisioning`)
      .map((m) => m.json<{ state: string; reason?: string; bound: boolean }>());

  it('refuses a foreign code, fails a wrong password and an expired token with their reasons, then joins and binds', async () => {
    await fixture.observer.waitFor(
      (m) => m.topic === `cam/v1/${device.serial}/evt/provisioning` && m.json().state === 'provisioned',
      'provisioned',
      60_000,
    );
    const states = provisioningEvents().map((e) => (e.reason ? `${e.state}:${e.reason}` : e.state));
    expect(states).toEqual([
      'scanning',
      'failed:invalid_qr',
      'joining',
      'failed:auth_error',
      'joining',
      'binding',
      'failed:token_rejected',
      'joining',
      'binding',
      'provisioned',
    ]);
    expect(provisioningEvents().at(-1)?.bound).toBe(true);

    // Two bind requests reached the cloud (none for the wrong password), each with its own token.
    const binds = fixture.observer.seen.filter((m) => m.topic === `cam/v1/${device.serial}/bind`);
    expect(binds.map((m) => m.json().token)).toEqual([expiredToken, goodToken]);
    expect(binds[0]?.json()).toMatchObject({ model: 'IPC-TEST', fw: '1.4.2', region: 'eu' });

    // Said on the speaker and shown on the LED.
    const spoken = daemon.stdout.lines
      .filter((l) => l.includes('"msg":"voice prompt played"'))
      .map((l) => JSON.parse(l).prompt);
    await daemon.stdout.waitFor((l) => l.includes('"prompt":"connected"'), 'the connected prompt');
    expect(spoken).toEqual(expect.arrayContaining(['invalid_qr', 'auth_error', 'token_rejected']));
    const leds = daemon.stdout.lines
      .filter((l) => l.includes('"msg":"provisioning state"'))
      .map((l) => JSON.parse(l).led);
    expect(leds).toEqual([
      'waiting',
      'error',
      'joining',
      'error',
      'joining',
      'joining',
      'error',
      'joining',
      'joining',
      'online',
    ]);
    // Solid on: the sim GPIO line holds 1.
    const led = await readFile(join(device.dataDir, 'sim-gpio', 'gpio18', 'value'), 'utf8');
    expect(led.trim()).toBe('1');

    // Neither the Wi-Fi password nor a bind token is in any log line.
    const logs = daemon.stdout.lines.join('\n');
    for (const secret of ['correct horse', 'wrong horse', goodToken, expiredToken])
      expect(logs).not.toContain(secret);
  });

  it('stays provisioned across a restart', async () => {
    const path = join(device.dataDir, 'provisioning.json');
    const record = await readFile(path, 'utf8');
    expect(JSON.parse(record)).toMatchObject({
      state: 'provisioned',
      bound: true,
      via: 'qr',
      ssid: 'HomeNet',
      region: 'eu',
    });
    await daemon.kill();
    const before = provisioningEvents().length;
    daemon = DaemonProcess.run(device.configPath);
    const line = await daemon.waitForLog('provisioned already');
    expect(JSON.parse(line)).toMatchObject({ bound: true, led: 'online' });
    await daemon.waitForLog('agent started');
    expect(await readFile(path, 'utf8')).toBe(record);
    expect(provisioningEvents().length).toBe(before);
  });
});
