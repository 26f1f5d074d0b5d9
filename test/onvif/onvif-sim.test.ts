import onvif, { type Cam, type DeviceInformation, type OnvifProfile } from 'onvif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simDataDir, startSim } from '../hardening/sim-process.js';
import { useBroker } from '../helpers/broker-fixture.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { ffprobe, SMALL_STREAMS } from '../helpers/media.js';
import {
  DEVICE_NS,
  faultSubcode,
  MEDIA_NS,
  postSoap,
  securityHeader,
  soapEnvelope,
} from '../helpers/onvif-soap.js';
import { DigestClient, type RtspCredentials, withCredentials } from '../helpers/rtsp-digest.js';

/** GET with HTTP Digest as a client does it: unauthenticated first, then answering the challenge. */
async function digestGet(url: string, credentials: RtspCredentials): Promise<Response> {
  const first = await fetch(url);
  await first.arrayBuffer();
  const client = new DigestClient(credentials);
  if (!client.challenge(first.headers.get('www-authenticate') ?? undefined)) return first;
  const { pathname, search } = new URL(url);
  return fetch(url, { headers: { authorization: client.authorization('GET', pathname + search) ?? '' } });
}

/** The client's callback API as a promise. */
function call<T>(fn: (callback: (err: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

// The real simulator with ONVIF on a free port, an independent ONVIF client (the npm `onvif` package)
// and the cloud's observer on a real Mosquitto.
describe('ONVIF on the simulator', () => {
  const fixture = useBroker();
  let sim: DaemonProcess;
  let deviceUrl: string;
  let credentials: RtspCredentials;
  let serial: string;
  let cam: Cam;

  const device = (body: string, header?: string, path = '/onvif/device_service') =>
    postSoap(deviceUrl.replace('/onvif/device_service', path), soapEnvelope(body, header));
  const signed = (body: string, path?: string) => device(body, securityHeader(credentials), path);

  /** A good request still answers: the process is alive and serving. */
  async function stillServing(): Promise<void> {
    const reply = await signed(`<GetDeviceInformation xmlns="${DEVICE_NS}"/>`);
    expect(reply.status).toBe(200);
    expect(reply.text).toContain(`<tds:SerialNumber>${serial}</tds:SerialNumber>`);
    expect(sim.child.exitCode).toBeNull();
  }

  beforeAll(async () => {
    const dataDir = await simDataDir('onvif', { media: true });
    sim = startSim(dataDir, fixture.broker.port, ['--onvif-port', '0']);
    serial = await sim.banner('device id', 30_000);
    credentials = { username: 'admin', password: await sim.banner('label code') };
    deviceUrl = await sim.banner('onvif', 30_000);
    const { hostname, port, pathname } = new URL(deviceUrl);
    cam = new onvif.Cam({
      hostname,
      port: Number(port),
      path: pathname,
      ...credentials,
      autoconnect: false,
      timeout: 20_000,
    });
    await fixture.observer.waitFor(
      (m) => m.topic === `cam/v1/${serial}/state/reported`,
      'first reported state',
    );
  }, 60_000);
  afterAll(async () => {
    await sim?.kill();
  });

  it('prints the device service in the banner and answers GetSystemDateAndTime without credentials', async () => {
    expect(deviceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service$/);
    const reply = await device(`<GetSystemDateAndTime xmlns="${DEVICE_NS}"/>`);
    expect(reply.status).toBe(200);
    const year = /<tt:UTCDateTime>.*<tt:Year>(\d+)<\/tt:Year>/.exec(reply.text)?.[1];
    expect(Number(year)).toBe(new Date().getUTCFullYear());
  });

  it('refuses an operation without credentials with a Digest challenge and ter:NotAuthorized', async () => {
    const reply = await device(`<GetDeviceInformation xmlns="${DEVICE_NS}"/>`);
    expect(reply.status).toBe(401);
    expect(reply.headers.get('www-authenticate')).toMatch(/^Digest realm=/);
    expect(faultSubcode(reply.text)).toBe('ter:NotAuthorized');
  });

  it('connects the npm onvif client and reads device information and profiles (Media2)', async () => {
    await call<undefined>((cb) => cam.connect((err) => cb(err, undefined)));
    expect(cam.media2Support).toBe(true);
    const info = await call<DeviceInformation>((cb) => cam.getDeviceInformation(cb));
    expect(info.serialNumber).toBe(serial);
    expect(info.manufacturer).toBe('ipcam-agent');
    const profiles = await call<OnvifProfile[]>((cb) => cam.getProfiles(cb));
    expect(profiles.map((p) => p.$.token)).toEqual(['main', 'sub']);
    const main = profiles[0]?.videoEncoderConfiguration;
    expect(main?.encoding).toBe('H264');
    expect(Number(main?.resolution.width)).toBe(SMALL_STREAMS.main.width);
    expect(Number(main?.resolution.height)).toBe(SMALL_STREAMS.main.height);
  });

  it('gives a stream URI that ffprobe plays with the credentials, over Media2 and Media1', async () => {
    const { uri } = await call<{ uri: string }>((cb) =>
      cam.getStreamUri({ protocol: 'RTSP', profileToken: 'main' }, cb),
    );
    expect(uri).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/main$/);
    const streams = await ffprobe(withCredentials(uri, credentials), 'tcp');
    const video = streams.find((s) => s.codec_type === 'video');
    expect(video).toMatchObject({ codec_name: 'h264', width: SMALL_STREAMS.main.width });

    cam.media2Support = false;
    try {
      const profiles = await call<OnvifProfile[]>((cb) => cam.getProfiles(cb));
      expect(profiles.map((p) => p.$.token)).toEqual(['main', 'sub']);
      const sub = await call<{ uri: string }>((cb) =>
        cam.getStreamUri({ protocol: 'RTSP', profileToken: 'sub' }, cb),
      );
      expect(sub.uri).toMatch(/\/sub$/);
      const subStreams = await ffprobe(withCredentials(sub.uri, credentials), 'tcp');
      expect(subStreams.find((s) => s.codec_type === 'video')?.width).toBe(SMALL_STREAMS.sub.width);
    } finally {
      cam.media2Support = true;
    }
  });

  it('answers a client that authenticates with HTTP Digest instead of WS-Security', async () => {
    const { hostname, port, pathname } = new URL(deviceUrl);
    const digestCam = new onvif.Cam({
      hostname,
      port: Number(port),
      path: pathname,
      ...credentials,
      autoconnect: false,
      useWSSecurity: false,
      timeout: 20_000,
    });
    await call<undefined>((cb) => digestCam.connect((err) => cb(err, undefined)));
    const info = await call<DeviceInformation>((cb) => digestCam.getDeviceInformation(cb));
    expect(info.serialNumber).toBe(serial);
    const wrong = new onvif.Cam({
      hostname,
      port: Number(port),
      path: pathname,
      username: 'admin',
      password: 'not-the-code',
      autoconnect: false,
      useWSSecurity: false,
      timeout: 20_000,
    });
    await expect(call<DeviceInformation>((cb) => wrong.getDeviceInformation(cb))).rejects.toThrow(/401/);
  });

  it('gives a snapshot URI serving a JPEG with Digest, 401 without', async () => {
    const { uri } = await call<{ uri: string }>((cb) => cam.getSnapshotUri({ profileToken: 'main' }, cb));
    expect(uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/onvif\/snapshot\?profile=main$/);
    const anonymous = await fetch(uri);
    expect(anonymous.status).toBe(401);
    const denied = await digestGet(uri, { ...credentials, password: 'wrong-password' });
    expect(denied.status).toBe(401);
    const response = await digestGet(uri, credentials);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await response.arrayBuffer());
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(jpeg.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
  });

  describe('hostile requests are refused with a fault and the process serves on', () => {
    it('a wrong password', async () => {
      const reply = await device(
        `<GetDeviceInformation xmlns="${DEVICE_NS}"/>`,
        securityHeader({ ...credentials, password: 'not-the-code' }),
      );
      expect(reply.status).toBe(400);
      expect(faultSubcode(reply.text)).toBe('ter:NotAuthorized');
      expect(reply.text).not.toContain(credentials.password);
      await sim.stdout.waitFor((l) => l.includes('onvif: request not authorized'), 'refusal log line');
      const logLines = sim.stdout.lines.filter((l) => l.startsWith('{'));
      expect(logLines.join('\n')).not.toContain(credentials.password);
      await stillServing();
    });

    it('a replayed UsernameToken nonce', async () => {
      const header = securityHeader(credentials);
      const first = await device(`<GetDeviceInformation xmlns="${DEVICE_NS}"/>`, header);
      expect(first.status).toBe(200);
      const replay = await device(`<GetDeviceInformation xmlns="${DEVICE_NS}"/>`, header);
      expect(replay.status).toBe(400);
      expect(faultSubcode(replay.text)).toBe('ter:NotAuthorized');
      await stillServing();
    });

    it('a Created ten minutes off, either way', async () => {
      for (const offset of [-10 * 60_000, 10 * 60_000]) {
        const header = securityHeader(credentials, { created: new Date(Date.now() + offset) });
        const reply = await device(`<GetDeviceInformation xmlns="${DEVICE_NS}"/>`, header);
        expect(reply.status).toBe(400);
        expect(faultSubcode(reply.text)).toBe('ter:NotAuthorized');
      }
      await stillServing();
    });

    it('the password in clear text (PasswordText)', async () => {
      const header = securityHeader(credentials, { passwordType: 'PasswordText' });
      const reply = await device(`<GetDeviceInformation xmlns="${DEVICE_NS}"/>`, header);
      expect(reply.status).toBe(400);
      await stillServing();
    });

    it('an oversized body', async () => {
      const padding = `<Pad>${'x'.repeat(100 * 1024)}</Pad>`;
      const reply = await signed(
        `<GetDeviceInformation xmlns="${DEVICE_NS}">${padding}</GetDeviceInformation>`,
      );
      expect(reply.status).toBe(413);
      expect(faultSubcode(reply.text)).toBe('ter:InvalidArgs');
      // Chunked, with no length to refuse it by: refused once it passes the limit.
      const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          sent += 1;
          if (sent > 64) controller.close();
          else controller.enqueue(chunk);
        },
      });
      const chunked = await fetch(deviceUrl, {
        method: 'POST',
        body,
        duplex: 'half',
        headers: { 'content-type': 'application/soap+xml' },
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(faultSubcode(await chunked.text())).toBe('ter:InvalidArgs');
      await stillServing();
    });

    it('malformed SOAP', async () => {
      for (const body of [
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetDeviceInformation',
        'not xml at all',
        '<a><b></a></b>',
        '<Envelope><Body><GetDeviceInformation/></Body></Envelope>',
        soapEnvelope(''),
      ]) {
        const reply = await postSoap(deviceUrl, body);
        expect(reply.status, body).toBe(400);
        expect(faultSubcode(reply.text), body).toBe('ter:InvalidArgs');
      }
      await stillServing();
    });

    it('an XXE payload, never resolved', async () => {
      const xxe =
        '<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>' +
        `<GetScopes xmlns="${DEVICE_NS}">&xxe;</GetScopes></s:Body></s:Envelope>`;
      const reply = await postSoap(deviceUrl, xxe);
      expect(reply.status).toBe(400);
      expect(faultSubcode(reply.text)).toBe('ter:InvalidArgs');
      expect(reply.text).not.toContain('root:');
      expect(reply.text).toContain('DTDs and entity declarations are not accepted');
      // An internal entity bomb (billion laughs) without any external reference: refused the same way.
      const bomb =
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>' +
        soapEnvelope(`<GetScopes xmlns="${DEVICE_NS}"><x>&lol2;</x></GetScopes>`).replace(
          /^<\?xml[^>]*>/,
          '',
        );
      const bombReply = await postSoap(deviceUrl, bomb);
      expect(bombReply.status).toBe(400);
      expect(bombReply.text).toContain('DTDs and entity declarations are not accepted');
      await stillServing();
    });

    it('an unknown operation', async () => {
      const reply = await signed(`<FormatTheCard xmlns="${DEVICE_NS}"/>`);
      expect(reply.status).toBe(400);
      expect(faultSubcode(reply.text)).toBe('ter:ActionNotSupported');
      await stillServing();
    });
  });

  it('SetVideoEncoderConfiguration changes the stream, and the cloud sees it reported', async () => {
    const reported = fixture.observer.next(
      (m) =>
        m.topic === `cam/v1/${serial}/state/reported` &&
        (m.json() as { local?: { source?: string } }).local?.source === 'onvif',
      'reported after the ONVIF change',
    );
    const reply = await signed(
      `<SetVideoEncoderConfiguration xmlns="${MEDIA_NS}"><Configuration token="sub">` +
        '<tt:Name>sub</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>' +
        '<tt:Resolution><tt:Width>480</tt:Width><tt:Height>270</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>' +
        '<tt:RateControl><tt:FrameRateLimit>8</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>' +
        '<tt:BitrateLimit>300</tt:BitrateLimit></tt:RateControl></Configuration>' +
        '<ForcePersistence>true</ForcePersistence></SetVideoEncoderConfiguration>',
      '/onvif/media_service',
    );
    expect(reply.status, reply.text).toBe(200);
    const state = (await reported).json<{ state: { stream: { sub: Record<string, number> } } }>().state;
    expect(state.stream.sub).toEqual({ width: 480, height: 270, fps: 8, bitrateKbps: 300 });

    const config = await signed(
      `<GetVideoEncoderConfiguration xmlns="${MEDIA_NS}"><ConfigurationToken>sub</ConfigurationToken></GetVideoEncoderConfiguration>`,
      '/onvif/media_service',
    );
    expect(config.text).toContain('<tt:Width>480</tt:Width>');

    // The encoder restarts with the new profile: the sub stream comes back at 480x270.
    const subUrl = withCredentials(
      (await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'sub' }, cb)))
        .uri,
      credentials,
    );
    let width: number | undefined;
    for (let attempt = 0; attempt < 10 && width !== 480; attempt += 1) {
      const streams = await ffprobe(subUrl, 'tcp').catch(() => [] as Awaited<ReturnType<typeof ffprobe>>);
      width = streams.find((s) => s.codec_type === 'video')?.width;
    }
    expect(width).toBe(480);

    const invalid = await signed(
      `<SetVideoEncoderConfiguration xmlns="${MEDIA_NS}"><Configuration token="sub">` +
        '<tt:Resolution><tt:Width>481</tt:Width><tt:Height>270</tt:Height></tt:Resolution>' +
        '</Configuration></SetVideoEncoderConfiguration>',
      '/onvif/media_service',
    );
    expect(invalid.status).toBe(400);
    expect(faultSubcode(invalid.text)).toBe('ter:InvalidArgVal');
  });

  it('stops serving when the owner turns onvif.enabled off, and serves again on the same port', async () => {
    const topic = `cam/v1/${serial}/state/desired`;
    /** The next log line with this message, not one printed before. */
    const nextLog = (msg: string) => {
      const before = sim.stdout.lines.filter((l) => l.includes(`"msg":"${msg}`)).length;
      let seen = 0;
      return sim.stdout.waitFor((l) => l.includes(`"msg":"${msg}`) && ++seen > before, msg);
    };
    const off = nextLog('onvif off (disabled or not set up)');
    await fixture.observer.client.publishAsync(
      topic,
      JSON.stringify({ version: 1, state: { onvif: { enabled: false } } }),
      {
        qos: 1,
        retain: true,
      },
    );
    await off;
    await expect(fetch(deviceUrl, { method: 'POST', body: '' })).rejects.toThrow();
    const on = nextLog('onvif server listening');
    await fixture.observer.client.publishAsync(
      topic,
      JSON.stringify({ version: 2, state: { onvif: { enabled: true } } }),
      {
        qos: 1,
        retain: true,
      },
    );
    await on;
    await stillServing();
  });

  it('maps the IR-cut filter onto night mode', async () => {
    const set = await signed(
      '<SetImagingSettings xmlns="http://www.onvif.org/ver20/imaging/wsdl"><VideoSourceToken>video0</VideoSourceToken>' +
        '<ImagingSettings><tt:IrCutFilter>OFF</tt:IrCutFilter></ImagingSettings></SetImagingSettings>',
      '/onvif/imaging_service',
    );
    expect(set.status, set.text).toBe(200);
    const reported = await fixture.observer.waitFor(
      (m) =>
        m.topic === `cam/v1/${serial}/state/reported` &&
        (m.json() as { state?: { nightMode?: string } }).state?.nightMode === 'on',
      'night mode on reported',
    );
    expect(reported).toBeDefined();
    const get = await signed(
      '<GetImagingSettings xmlns="http://www.onvif.org/ver20/imaging/wsdl"><VideoSourceToken>video0</VideoSourceToken></GetImagingSettings>',
      '/onvif/imaging_service',
    );
    expect(get.text).toContain('<tt:IrCutFilter>OFF</tt:IrCutFilter>');
  });
  it('refuses snapshots (503) and stream URIs in privacy mode', async () => {
    const rtspOff = sim.stdout.waitFor((l) => l.includes('"msg":"rtsp off'), 'rtsp off');
    await fixture.observer.client.publishAsync(
      `cam/v1/${serial}/state/desired`,
      JSON.stringify({ version: 3, state: { privacyMode: true } }),
      { qos: 1, retain: true },
    );
    await fixture.observer.waitFor(
      (m) => m.topic === `cam/v1/${serial}/state/reported` && m.json().version === 3,
      'privacy mode reported',
    );
    await rtspOff;
    const { origin } = new URL(deviceUrl);
    const snapshot = await digestGet(`${origin}/onvif/snapshot?profile=main`, credentials);
    expect(snapshot.status).toBe(503);
    const stream = await signed(
      `<GetStreamUri xmlns="${MEDIA_NS}"><ProfileToken>main</ProfileToken></GetStreamUri>`,
      '/onvif/media_service',
    );
    expect(stream.status).toBe(500);
    expect(faultSubcode(stream.text)).toBe('ter:Action');
    await stillServing();
  });
  it('SystemReboot answers, then reboots through the daemon (in process, in the simulator)', async () => {
    const before = sim.stdout.lines.filter((l) => l.trim().startsWith('onvif ')).length;
    let seen = 0;
    const nextBanner = sim.stdout.waitFor(
      (l) => l.trim().startsWith('onvif ') && ++seen > before,
      'the onvif banner line after the reboot',
      60_000,
    );
    const reply = await signed(`<SystemReboot xmlns="${DEVICE_NS}"/>`);
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('<tds:Message>Rebooting</tds:Message>');
    await sim.waitForLog('simulated reboot: restarting the agent in this process');
    deviceUrl = /http:\/\/\S+/.exec(await nextBanner)?.[0] ?? '';
    await stillServing();
  }, 90_000);
});
