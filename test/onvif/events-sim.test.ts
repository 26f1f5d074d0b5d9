import onvif, { type Cam } from 'onvif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simDataDir, startSim } from '../hardening/sim-process.js';
import { useBroker } from '../helpers/broker-fixture.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { faultSubcode, postSoap, securityHeader, soapEnvelope } from '../helpers/onvif-soap.js';
import type { RtspCredentials } from '../helpers/rtsp-digest.js';
import { type Message, messagesOf, parser } from './events-fixture.js';

const TEV = 'http://www.onvif.org/ver10/events/wsdl';

/** The messages of a PullMessagesResponse as the client received it (raw XML, parsed independently). */
function pulled(xml: string | undefined): Message[] {
  const envelope = parser.parse(xml ?? '') as { Envelope: { Body: Record<string, unknown> } };
  return messagesOf(envelope.Envelope.Body);
}

// The real simulator, whose test picture has an object crossing it in the first 8 s of every 30 s
// (src/media/ffmpeg-args.ts), so motion alarms start and end on their own; the npm `onvif` package as
// the NVR.
describe('ONVIF events on the simulator', () => {
  const fixture = useBroker();
  let sim: DaemonProcess;
  let deviceUrl: string;
  let credentials: RtspCredentials;
  let cam: Cam;

  const signed = (path: string, body: string) =>
    postSoap(new URL(path, deviceUrl).href, soapEnvelope(body, securityHeader(credentials)));

  beforeAll(async () => {
    const dataDir = await simDataDir('onvif-events', { media: true });
    sim = startSim(dataDir, fixture.broker.port, ['--onvif-port', '0']);
    await sim.banner('device id', 30_000);
    credentials = { username: 'admin', password: await sim.banner('label code') };
    deviceUrl = await sim.banner('onvif', 30_000);
    const { hostname, port, pathname } = new URL(deviceUrl);
    cam = new onvif.Cam({
      hostname,
      port: Number(port),
      path: pathname,
      ...credentials,
      autoconnect: false,
      timeout: 90_000,
    });
    await new Promise<void>((resolve, reject) => cam.connect((err) => (err ? reject(err) : resolve())));
  }, 60_000);
  afterAll(async () => {
    await sim?.kill();
  });

  it('lets the npm onvif client subscribe and see motion start and then end as the object crosses', async () => {
    const properties = await new Promise<string>((resolve, reject) =>
      cam.getEventProperties((err, _p, xml) => (err ? reject(err) : resolve(xml ?? ''))),
    );
    expect(properties).toContain('MotionAlarm');
    const subscription = await new Promise<{ subscriptionReference: { address: { href: string } } }>(
      (resolve, reject) => cam.createPullPointSubscription((err, s) => (err ? reject(err) : resolve(s))),
    );
    expect(subscription.subscriptionReference.address.href).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/onvif\/subscription\/[0-9a-f]{16}$/,
    );
    const seen: Message[] = [];
    const states = () =>
      seen.filter((m) => m.topic === 'tns1:VideoSource/MotionAlarm').map((m) => m.data.State);
    // Each pull waits (long-poll, PT1M) until the next messages: no polling loop of our own.
    while (
      !states()
        .join(',')
        .match(/true,false$/)
    ) {
      const xml = await new Promise<string | undefined>((resolve, reject) =>
        cam.pullMessages({ messageLimit: 10 }, (err, response, raw) => {
          if (err) reject(err);
          else {
            expect(response?.currentTime).toBeDefined();
            resolve(raw);
          }
        }),
      );
      seen.push(...pulled(xml));
    }
    expect(seen[0]).toMatchObject({ topic: 'tns1:VideoSource/MotionAlarm', operation: 'Initialized' });
    const start = seen.find((m) => m.data.State === 'true');
    expect(start).toMatchObject({ operation: 'Changed', source: { Source: 'video0' } });
    expect(seen.find((m) => m.data.IsMotion === 'true')?.operation).toBe('Changed');
    expect(seen.at(-1)?.data).toEqual({ IsMotion: 'false' });
    // The cloud heard of the same alarm.
    expect(
      fixture.observer.seen.some((m) => m.topic.endsWith('/evt/motion') && m.json().phase === 'start'),
    ).toBe(true);
    await new Promise<void>((resolve, reject) => cam.unsubscribe((err) => (err ? reject(err) : resolve())));
  }, 120_000);

  it('expires subscriptions at their termination time, and holds at most five at once', async () => {
    const create = (termination: string) =>
      signed(
        '/onvif/events_service',
        `<CreatePullPointSubscription xmlns="${TEV}"><InitialTerminationTime>${termination}</InitialTerminationTime></CreatePullPointSubscription>`,
      );
    let expired = 0;
    const allExpired = sim.stdout.waitFor(
      (line) =>
        line.includes('"msg":"onvif pull point ended"') &&
        line.includes('"reason":"expired"') &&
        ++expired === 5,
      'five subscriptions expired',
      30_000,
    );
    const addresses: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const reply = await create('PT3S');
      expect(reply.status).toBe(200);
      addresses.push(/<wsa:Address>([^<]+)<\/wsa:Address>/.exec(reply.text)?.[1] ?? '');
    }
    const sixth = await create('PT3S');
    expect(faultSubcode(sixth.text)).toBe('ter:TooManySubscriptions');
    const bad = await create('PT3X');
    expect(bad.status).toBe(400);
    expect(faultSubcode(bad.text)).toBe('ter:InvalidArgVal');

    await allExpired;
    const gone = await signed(
      new URL(addresses[0] ?? '').pathname,
      `<PullMessages xmlns="${TEV}"><Timeout>PT1S</Timeout><MessageLimit>1</MessageLimit></PullMessages>`,
    );
    expect(faultSubcode(gone.text)).toBe('ter:InvalidArgVal');
    expect((await create('PT10S')).status).toBe(200);
    expect(sim.child.exitCode).toBeNull();
  }, 60_000);
});
