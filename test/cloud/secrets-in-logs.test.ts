import { describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { DaemonProcess, prepareDevice } from '../helpers/daemon.js';

describe('no secret in any log line', () => {
  const cloud = useBroker();

  it('keeps passwords, tokens and keys out of trace-level logs of a full session', async () => {
    const device = await prepareDevice({ url: cloud.broker.url });
    const daemon = DaemonProcess.run(device.configPath);
    const t = (s: string) => `cam/v1/${device.serial}/${s}`;
    await cloud.observer.waitFor((m) => m.topic === t('status') && m.json().state === 'online', 'birth');

    const rtspPassword = 'Rtsp-Secret-5501';
    const token = 'bind-token-eyJhbGciOiJFZERTQSJ9';
    const wifiPassword = 'Wifi-Passphrase-7788';
    const reported = cloud.observer.next(
      (m) => m.topic === t('state/reported') && m.json().version === 1,
      'reported',
    );
    await cloud.observer.client.publishAsync(
      t('state/desired'),
      JSON.stringify({
        version: 1,
        state: {
          rtsp: { username: 'nvr', password: rtspPassword },
          uploadUrl: `https://uploader:${wifiPassword}@cloud.example/put?token=${token}`,
          bogus: { password: wifiPassword, token },
        },
      }),
      { qos: 1 },
    );
    await reported;
    // Secrets in places that get logged: a rejected command body and a bad desired document.
    await cloud.observer.request(t('cmd/nope'), {
      password: wifiPassword,
      token,
      url: `rtsp://admin:${rtspPassword}@cam/main`,
    });
    await cloud.observer.request(t('cmd/getInfo'), `{"token":"${token}", broken`);
    await daemon.kill('SIGTERM');

    const all = [...daemon.stdout.lines, ...daemon.stderr.lines].join('\n');
    // The lines that handled the secrets were written; they just do not carry them.
    expect(all).toContain('desired state keys rejected');
    expect(all).toContain('"command":"nope"');
    for (const secret of [rtspPassword, token, wifiPassword]) {
      expect(all).not.toContain(secret);
    }
  });
});
