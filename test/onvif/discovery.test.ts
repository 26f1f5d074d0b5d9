import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createOnvifDiscovery, type OnvifDiscovery } from '../../src/onvif/discovery.js';
import type { DiscoveryConfig } from '../../src/onvif/discovery-config.js';
import { endpointFor, probeMessage, WSD_PORT } from '../../src/onvif/discovery-messages.js';
import { captureLog } from '../core/fixtures.js';
import { Inbox, probeWithOnvifClient } from './discovery-helpers.js';

const SCOPES = [
  'onvif://www.onvif.org/type/video_encoder',
  'onvif://www.onvif.org/Profile/Streaming',
  'onvif://www.onvif.org/Profile/T',
  'onvif://www.onvif.org/name/Front%20door',
  'onvif://www.onvif.org/hardware/sim-cam',
  'onvif://www.onvif.org/location/home',
];
const CONFIG: DiscoveryConfig = {
  port: 0,
  maxDatagramBytes: 8192,
  maxDelayMs: 500,
  answersPerSecond: 1000,
  answersPerSecondPerSender: 1000,
  multicastRepeat: 0,
  refreshSeconds: 3600,
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Options {
  deviceId?: string;
  scopes?: () => readonly string[];
  config?: Partial<DiscoveryConfig>;
  announcePort?: number;
  active?: () => boolean;
  now?: () => number;
}

async function discovery(options: Options = {}) {
  const captured = captureLog();
  const d = createOnvifDiscovery({
    config: { ...CONFIG, ...options.config },
    deviceId: options.deviceId ?? 'cam-1',
    active: options.active ?? (() => true),
    scopes: options.scopes ?? (() => SCOPES),
    onvifPort: () => 8000,
    addresses: () => ['127.0.0.1'],
    announcePort: options.announcePort ?? 1,
    delayMs: () => 0,
    now: options.now,
    log: captured.log,
  });
  cleanup.push(() => d.stop());
  return { d, captured };
}

async function inbox(options: { multicast?: boolean; address?: string } = {}) {
  const box = await Inbox.open(options);
  cleanup.push(() => box.close());
  return box;
}

let counter = 0;
const id = () => `urn:uuid:00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;

async function probe(client: Inbox, d: OnvifDiscovery, messageId: string, types?: string, scopes?: string) {
  const port = d.port;
  if (port === undefined) throw new Error('discovery is not listening');
  await client.send(probeMessage(messageId, types, scopes), port);
}

describe('WS-Discovery', () => {
  it('says Hello when it starts and Bye when it stops, on the multicast group', async () => {
    const group = await inbox({ multicast: true });
    const { d } = await discovery({ announcePort: group.port });
    await d.start();
    const hello = await group.next();
    expect(hello.action).toBe('http://schemas.xmlsoap.org/ws/2005/04/discovery/Hello');
    expect(hello.endpoint).toBe(endpointFor('cam-1'));
    expect(hello.endpoint).toMatch(
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(hello.types).toBe('dn:NetworkVideoTransmitter tds:Device');
    expect(hello.scopes).toEqual(SCOPES);
    expect(hello.xaddrs).toEqual(['http://127.0.0.1:8000/onvif/device_service']);
    await d.stop();
    const bye = await group.next();
    expect(bye.action).toBe('http://schemas.xmlsoap.org/ws/2005/04/discovery/Bye');
    expect(bye.endpoint).toBe(hello.endpoint);
    expect(d.port).toBeUndefined();
  });

  it('answers a Probe unicast with ProbeMatches relating to it', async () => {
    const { d } = await discovery();
    await d.start();
    const client = await inbox();
    const messageId = id();
    await probe(client, d, messageId);
    const match = await client.next();
    expect(match.action).toBe('http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches');
    expect(match.relatesTo).toBe(messageId);
    expect(match.endpoint).toBe(endpointFor('cam-1'));
    expect(match.types).toBe('dn:NetworkVideoTransmitter tds:Device');
    expect(match.scopes).toEqual(SCOPES);
    expect(match.xaddrs).toEqual(['http://127.0.0.1:8000/onvif/device_service']);
    expect(match.metadataVersion).toBe('1');
    expect(match.from).toMatchObject({ address: '127.0.0.1', port: d.port });
  });

  it('answers Probes for no type, a device, an NVT, and matching scopes', async () => {
    const { d } = await discovery();
    await d.start();
    const client = await inbox();
    const cases: [string, string?][] = [
      [''],
      ['tds:Device'],
      ['dn:NetworkVideoTransmitter tds:Device'],
      ['dn:NetworkVideoTransmitter', 'onvif://www.onvif.org/Profile/Streaming'],
      ['', 'onvif://www.onvif.org/name/Front%20door onvif://www.onvif.org/hardware'],
      ['', 'ONVIF://WWW.ONVIF.ORG/location'],
    ];
    for (const [types, scopes] of cases) {
      const messageId = id();
      await probe(client, d, messageId, types, scopes);
      expect((await client.next()).relatesTo, `${types} ${scopes ?? ''}`).toBe(messageId);
    }
  });

  it('does not answer Probes for other types or scopes (the next good Probe is the first answered)', async () => {
    const { d } = await discovery();
    await d.start();
    const client = await inbox();
    const printer =
      '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:p="http://schemas.microsoft.com/windows/2006/08/wdp/print"><s:Header><a:MessageID>urn:uuid:1</a:MessageID></s:Header><s:Body><d:Probe><d:Types>p:PrintDeviceType</d:Types></d:Probe></s:Body></s:Envelope>';
    const wrongNamespace = `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:x="urn:other"><s:Header><a:MessageID>urn:uuid:2</a:MessageID></s:Header><s:Body><d:Probe><d:Types>x:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>`;
    await client.send(printer, d.port ?? 0);
    await client.send(wrongNamespace, d.port ?? 0);
    await probe(client, d, id(), 'dn:NetworkVideoTransmitter dn:SomethingElse');
    await probe(client, d, id(), '', 'onvif://www.onvif.org/name/Back%20door');
    await probe(client, d, id(), '', 'onvif://www.onvif.org/Profile/Stream');
    await probe(client, d, id(), '', 'http://example.com/name');
    const good = id();
    await probe(client, d, good, 'dn:NetworkVideoTransmitter');
    expect((await client.next()).relatesTo).toBe(good);
    expect(client.messages).toHaveLength(1);
  });

  it('drops hostile datagrams with one log line each kind, stays up, and still answers a good Probe', async () => {
    const { d, captured } = await discovery();
    await d.start();
    const client = await inbox();
    const envelope = (inner: string) =>
      `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">${inner}</s:Envelope>`;
    const hostile: (string | Buffer)[] = [
      Buffer.alloc(9000, 0x41),
      `${probeMessage(id())}${' '.repeat(8192)}`,
      '<s:Envelope><s:Body><d:Probe></s:Body>',
      Buffer.from([0xff, 0xfe, 0x00, 0x3c, 0x00, 0x00]),
      `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>${envelope('<s:Body><d:Probe><d:Types>&lol2;</d:Types></d:Probe></s:Body>')}`,
      `<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${envelope(`<s:Header><a:MessageID>&xxe;</a:MessageID></s:Header><s:Body><d:Probe/></s:Body>`)}`,
      envelope('<s:Body><d:Probe/></s:Body>'),
      envelope(
        `<s:Header><a:MessageID>${'x'.repeat(2000)}</a:MessageID></s:Header><s:Body><d:Probe/></s:Body>`,
      ),
      envelope(
        `<s:Header><a:MessageID>urn:uuid:5</a:MessageID></s:Header><s:Body><d:Probe><d:Types>${'dn:A '.repeat(100)}</d:Types></d:Probe></s:Body>`,
      ),
      '<Envelope xmlns="urn:not-soap"><Body/></Envelope>',
      'not xml at all',
      '',
    ];
    for (let round = 0; round < 3; round++)
      for (const datagram of hostile) await client.send(datagram, d.port ?? 0);
    const good = id();
    await probe(client, d, good);
    expect((await client.next()).relatesTo).toBe(good);
    expect(client.messages).toHaveLength(1);
    const drops = captured.records().filter((r) => r.msg === 'ws-discovery datagram dropped');
    const reasons = drops.map((r) => r.reason);
    expect(new Set(reasons)).toEqual(
      new Set(['too-large', 'malformed', 'doctype', 'no-message-id', 'not-soap']),
    );
    // Rate-limited: one line per reason, however many came in.
    expect(reasons).toHaveLength(5);
  });

  it('bounds answers per sender and for all senders together (no reflector)', async () => {
    let now = 1_000_000;
    const { d, captured } = await discovery({
      config: { answersPerSecond: 10, answersPerSecondPerSender: 1 },
      now: () => now,
    });
    await d.start();
    // The clock stands still until the test moves it. A datagram is handled in arrival order, so an
    // answer to (or a log line about) a later one means every earlier one was handled.
    const one = await inbox({ address: '127.0.0.1' });
    for (let i = 0; i < 30; i++) await probe(one, d, id());
    const witness = await inbox({ address: '127.0.0.30' });
    const witnessId = id();
    await probe(witness, d, witnessId);
    await witness.next((m) => m.relatesTo === witnessId);
    await new Promise((resolve) => setImmediate(resolve));
    // One sender asking 30 times in no time gets its burst of 5; a second later it has one more.
    expect(one.messages).toHaveLength(5);
    now += 1000;
    const sentinel = id();
    await probe(one, d, sentinel);
    expect((await one.next((m) => m.relatesTo === sentinel)).relatesTo).toBe(sentinel);
    expect(one.messages).toHaveLength(6);

    // Ten addresses (a spoofed flood) asking 5 times each, their own buckets full: the global bucket
    // is the bound. The second refilled it to its burst of 20 and the sentinel took one: 19 answers.
    const senders = await Promise.all(
      Array.from({ length: 10 }, (_, i) => inbox({ address: `127.0.0.${i + 2}` })),
    );
    for (const sender of senders) for (let i = 0; i < 5; i++) await probe(sender, d, id());
    await one.send('not xml', d.port ?? 0);
    await captured.waitFor((r) => r.reason === 'malformed');
    now += 1000;
    const last = await inbox({ address: '127.0.0.20' });
    const lastId = id();
    await probe(last, d, lastId);
    await last.next((m) => m.relatesTo === lastId);
    // Every earlier answer was readable before the last one: one turn of the loop delivers them all.
    await new Promise((resolve) => setImmediate(resolve));
    const answered = senders.reduce((n, s) => n + s.messages.length, 0);
    expect(answered).toBe(19);
    expect(captured.records().some((r) => r.msg === 'ws-discovery answers rate-limited')).toBe(true);
  });

  it('is silent while discovery is off, says Bye when turned off and Hello when turned on again', async () => {
    const group = await inbox({ multicast: true });
    let on = false;
    const { d: off } = await discovery({ deviceId: 'quiet', announcePort: group.port, active: () => on });
    await off.start();
    expect(off.port).toBeUndefined();
    // Another device's Hello, started after it, is the first thing on the group.
    const { d: other } = await discovery({ deviceId: 'loud', announcePort: group.port });
    await other.start();
    expect((await group.next()).endpoint).toBe(endpointFor('loud'));
    await other.stop();
    expect((await group.next()).action).toMatch(/\/Bye$/);

    on = true;
    await off.apply();
    const hello = await group.next();
    expect(hello.action).toMatch(/\/Hello$/);
    expect(hello.endpoint).toBe(endpointFor('quiet'));
    const port = off.port;
    expect(port).toBeTypeOf('number');
    on = false;
    await off.apply();
    const bye = await group.next();
    expect([bye.action, bye.endpoint]).toEqual([
      'http://schemas.xmlsoap.org/ws/2005/04/discovery/Bye',
      hello.endpoint,
    ]);
    expect(off.port).toBeUndefined();
  });

  it('announces a change of its scopes (the owner renamed the camera) with a new Hello and MetadataVersion', async () => {
    const group = await inbox({ multicast: true });
    let scopes = SCOPES;
    const { d } = await discovery({ announcePort: group.port, scopes: () => scopes });
    await d.start();
    expect((await group.next()).metadataVersion).toBe('1');
    await d.apply();
    scopes = [...SCOPES.slice(0, 3), 'onvif://www.onvif.org/name/Garage'];
    await d.apply();
    const hello = await group.next();
    expect([hello.action, hello.metadataVersion]).toEqual([
      'http://schemas.xmlsoap.org/ws/2005/04/discovery/Hello',
      '2',
    ]);
    expect(hello.scopes).toContain('onvif://www.onvif.org/name/Garage');
    const client = await inbox();
    const messageId = id();
    await probe(client, d, messageId, '', 'onvif://www.onvif.org/name/Garage');
    expect((await client.next()).metadataVersion).toBe('2');
  });

  it('a port held by another program leaves it undiscoverable with an error line, not failing the start', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(0, '0.0.0.0', resolve));
    cleanup.push(() => new Promise((resolve) => holder.close(() => resolve())));
    const { d, captured } = await discovery({ config: { port: holder.address().port } });
    await d.start();
    expect(d.port).toBeUndefined();
    const line = await captured.waitFor((r) => r.msg === 'ws-discovery could not listen');
    expect(line.port).toBe(holder.address().port);
  });

  it('is found by the onvif npm client (Discovery.probe, multicast to 239.255.255.250:3702 on lo)', async () => {
    const { d } = await discovery({ deviceId: 'found-by-onvif', config: { port: WSD_PORT } });
    await d.start();
    const ours = (await probeWithOnvifClient()).find((m) => m.endpoint === endpointFor('found-by-onvif'));
    expect(ours?.xaddrs).toEqual(['http://127.0.0.1:8000/onvif/device_service']);
  });
});
