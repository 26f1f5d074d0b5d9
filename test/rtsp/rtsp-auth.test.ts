import { spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gstUntilEos } from '../helpers/gst.js';
import { decodeFrames, ffprobe } from '../helpers/media.js';
import { Observer } from '../helpers/observer.js';
import { RawRtspClient } from '../helpers/raw-rtsp.js';
import { type RtspSim, startRtspSim } from '../helpers/rtsp-sim.js';

/** Two consecutive free UDP ports on loopback, bound, for a raw client's RTP/RTCP. */
async function udpPair(): Promise<{ rtp: UdpSocket; rtcp: UdpSocket; port: number }> {
  for (;;) {
    const rtp = createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', resolve));
    const port = rtp.address().port;
    const rtcp = createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      rtcp.once('error', () => resolve(false));
      rtcp.bind(port + 1, '127.0.0.1', () => resolve(true));
    });
    if (bound && port < 65535) return { rtp, rtcp, port };
    rtp.close();
  }
}

describe('RTSP is secure by default (contract 5)', () => {
  let cam: RtspSim;
  let observer: Observer;

  beforeAll(async () => {
    cam = await startRtspSim();
    observer = await Observer.connect(cam.mqttUrl, [`cam/v1/${cam.deviceId}/state/reported`]);
    await cam.sim.waitForLog('rtsp server listening', 30_000);
  }, 60_000);
  afterAll(async () => {
    await observer?.close();
    await cam?.sim.kill();
  });

  it('prints the URL with the user and names the label code as the password', () => {
    expect(cam.rtspBanner).toContain(`rtsp://admin@127.0.0.1:${cam.rtspPort}/main`);
    expect(cam.rtspBanner).toContain('password: the label code');
    expect(cam.labelCode).toMatch(/^[A-Za-z0-9]{6}$/);
  });

  it('answers a fresh simulator without credentials with 401 and a Digest challenge', async () => {
    const client = await RawRtspClient.open(cam.rtspPort);
    const response = await client.request('DESCRIBE', cam.url('/main', false));
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(
      /^Digest realm="ipcam-agent", nonce="[^"]+", algorithm=MD5, qop="auth"$/,
    );
    client.close();
    const anonymous = await decodeFrames(cam.url('/main', false), 5);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/401/);
    const wrong = await decodeFrames(cam.url('/main', { username: 'admin', password: 'admin' }), 5);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/401/);
  });

  it('lets ffprobe, ffmpeg (TCP and UDP) and GStreamer in with admin and the label code', async () => {
    const streams = await ffprobe(cam.url('/main'), 'tcp');
    expect(streams.find((s) => s.codec_type === 'video')?.codec_name).toBe('h264');
    for (const transport of ['tcp', 'udp'] as const) {
      const { code, stderr } = await decodeFrames(cam.url('/sub'), 20, transport);
      expect(stderr).not.toMatch(/401/);
      expect(code).toBe(0);
    }
    const stdout = await gstUntilEos([
      ...['rtspsrc', `location=${cam.url('/main')}`, 'protocols=tcp', '!', 'rtph264depay', '!'],
      ...['h264parse', '!', 'avdec_h264', '!', 'identity', 'eos-after=20', '!', 'fakesink'],
    ]);
    expect(stdout).toContain('Got EOS from element');
  });

  it('refuses a replayed Authorization header: a reused nc, another URI, another connection', async () => {
    const main = cam.url('/main', false);
    const sub = cam.url('/sub', false);
    const client = await RawRtspClient.open(cam.rtspPort, cam.credentials);
    expect((await client.request('DESCRIBE', main)).status).toBe(200);
    const digest = client.digest;
    if (!digest) throw new Error('no digest client');
    const header = digest.authorization('DESCRIBE', main) ?? '';
    expect((await client.request('DESCRIBE', main, { Authorization: header })).status).toBe(200);
    // The very same header again: its nc was used.
    expect((await client.request('DESCRIBE', main, { Authorization: header })).status).toBe(401);
    // A fresh nc, but computed for /main and sent for /sub.
    const forMain = digest.authorization('DESCRIBE', main) ?? '';
    expect((await client.request('DESCRIBE', sub, { Authorization: forMain })).status).toBe(401);
    // A valid next header, taken to another connection: that nonce was not issued there.
    const stolen = digest.authorization('DESCRIBE', main) ?? '';
    const other = await RawRtspClient.open(cam.rtspPort);
    expect((await other.request('DESCRIBE', main, { Authorization: stolen })).status).toBe(401);
    other.close();
    // The owner of the nonce goes on with the next count.
    const next = digest.authorization('DESCRIBE', main) ?? '';
    expect((await client.request('DESCRIBE', main, { Authorization: next })).status).toBe(200);
    client.close();
  });

  it('new credentials from desired state end the sessions of the old ones; the old password fails', async () => {
    const owner = { username: 'owner', password: 'New-Pass-42' };
    // A TCP viewer (ffmpeg) and a UDP session (raw client), both with the label code.
    const viewer = spawn(
      'ffmpeg',
      ['-v', 'error', '-rtsp_transport', 'tcp', '-i', cam.url('/sub'), '-f', 'framemd5', '-'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const viewerExit = new Promise<number | null>((resolve) => viewer.once('close', resolve));
    let frames = 0;
    let framesAtChange = -1;
    const watching = new Promise<void>((resolve) =>
      createInterface({ input: viewer.stdout }).on('line', (line) => {
        if (line.startsWith('0,')) frames += 1;
        if (frames === 10) resolve();
      }),
    );
    await watching;

    const ports = await udpPair();
    const firstPacket = new Promise<void>((resolve) => ports.rtp.once('message', () => resolve()));
    const udpClient = await RawRtspClient.open(cam.rtspPort, cam.credentials);
    const setup = await udpClient.request('SETUP', `${cam.url('/sub', false)}/trackID=0`, {
      Transport: `RTP/AVP;unicast;client_port=${ports.port}-${ports.port + 1}`,
    });
    expect(setup.status).toBe(200);
    const session = (setup.headers.session ?? '').split(';')[0] ?? '';
    expect((await udpClient.request('PLAY', cam.url('/sub', false), { Session: session })).status).toBe(200);
    await firstPacket;

    const reported = observer.waitFor((m) => m.json<{ version: number }>().version === 1, 'reported v1');
    await observer.client.publishAsync(
      `cam/v1/${cam.deviceId}/state/desired`,
      JSON.stringify({ version: 1, state: { rtsp: owner } }),
      { qos: 1 },
    );
    await reported;
    await cam.sim.waitForLog('rtsp credentials changed');
    framesAtChange = frames;
    // The TCP viewer's connection is closed under it.
    await viewerExit;
    expect(frames - framesAtChange).toBeLessThan(100);

    // The UDP session is gone: its owner, now with the new credentials, is told so.
    const asOwner = await RawRtspClient.open(cam.rtspPort, owner);
    const keepalive = await asOwner.request('GET_PARAMETER', cam.url('/sub', false), { Session: session });
    expect(keepalive.status).toBe(454);
    asOwner.close();
    udpClient.close();
    ports.rtp.close();
    ports.rtcp.close();

    const old = await decodeFrames(cam.url('/main'), 5);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(/401/);
    const fresh = await decodeFrames(cam.url('/main', owner), 10);
    expect(fresh.code).toBe(0);
    expect(cam.sim.stdout.lines.join('\n')).not.toContain(owner.password);
  });
});
