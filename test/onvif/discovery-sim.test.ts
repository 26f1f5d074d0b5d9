import onvif, { type DeviceInformation } from 'onvif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointFor, WSD_PORT } from '../../src/onvif/discovery-messages.js';
import { simDataDir, startSim } from '../hardening/sim-process.js';
import { useBroker } from '../helpers/broker-fixture.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { DEVICE_NS, postSoap, soapEnvelope } from '../helpers/onvif-soap.js';
import { Inbox, probeWithOnvifClient } from './discovery-helpers.js';

// The real simulator on WS-Discovery's own port (shared: the npm client always asks 239.255.255.250:3702),
// found by an independent client, which then connects to the address it was given.
describe('WS-Discovery on the simulator', () => {
  const fixture = useBroker();
  let sim: DaemonProcess;
  let serial: string;
  let password: string;
  let group: Inbox;

  beforeAll(async () => {
    group = await Inbox.open({ multicast: true, port: WSD_PORT });
    const dataDir = await simDataDir('onvif-discovery', { media: false });
    sim = startSim(dataDir, fixture.broker.port, ['--onvif-port', '0', '--discovery-port', String(WSD_PORT)]);
    serial = await sim.banner('device id', 30_000);
    password = await sim.banner('label code');
    await sim.waitForLog('ws-discovery on', 30_000);
  }, 60_000);
  afterAll(async () => {
    await sim?.kill();
    await group?.close();
  });

  it('says Hello on the group at start', async () => {
    const hello = await group.next((m) => m.action.endsWith('/Hello') && m.endpoint === endpointFor(serial));
    expect(hello.xaddrs).toHaveLength(1);
    expect(hello.xaddrs[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service$/);
    expect(hello.scopes).toEqual(
      expect.arrayContaining([
        'onvif://www.onvif.org/Profile/Streaming',
        'onvif://www.onvif.org/Profile/T',
        'onvif://www.onvif.org/type/video_encoder',
        expect.stringMatching(/^onvif:\/\/www\.onvif\.org\/name\//),
        expect.stringMatching(/^onvif:\/\/www\.onvif\.org\/hardware\//),
        expect.stringMatching(/^onvif:\/\/www\.onvif\.org\/location\//),
      ]),
    );
  });

  it('is found by the npm onvif client, which then reads the device information with the credentials', async () => {
    const ours = (await probeWithOnvifClient()).find((m) => m.endpoint === endpointFor(serial));
    expect(ours).toBeDefined();
    const url = new URL(ours?.xaddrs[0] ?? '');
    const cam = new onvif.Cam({
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      username: 'admin',
      password,
      autoconnect: false,
      timeout: 20_000,
    });
    await new Promise<void>((resolve, reject) => cam.connect((err) => (err ? reject(err) : resolve())));
    const info = await new Promise<DeviceInformation>((resolve, reject) =>
      cam.getDeviceInformation((err, value) => (err ? reject(err) : resolve(value))),
    );
    expect(info.serialNumber).toBe(serial);
  });

  it('GetEndpointReference names the same endpoint as the Hello', async () => {
    const hello = group.messages.find(
      (m) => m.action.endsWith('/Hello') && m.endpoint === endpointFor(serial),
    );
    const reply = await postSoap(
      hello?.xaddrs[0] ?? '',
      soapEnvelope(`<GetEndpointReference xmlns="${DEVICE_NS}"/>`),
    );
    expect(reply.status).toBe(200);
    expect(reply.text).toContain(`<tds:GUID>${endpointFor(serial)}</tds:GUID>`);
  });

  it('says Bye and goes silent when the owner turns discovery off', async () => {
    await fixture.observer.client.publishAsync(
      `cam/v1/${serial}/state/desired`,
      JSON.stringify({ version: 1, state: { onvif: { discovery: false } } }),
      { qos: 1 },
    );
    const bye = await group.next((m) => m.action.endsWith('/Bye') && m.endpoint === endpointFor(serial));
    expect(bye.xml).toContain('Bye');
    await sim.waitForLog('ws-discovery off', 15_000);
    expect(sim.child.exitCode).toBeNull();
  });
});
