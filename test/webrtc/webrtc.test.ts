import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket } from 'werift';
import { signViewerToken } from '../../src/webrtc/token.js';
import { AppPeer, toAnnexB } from '../helpers/app-peer.js';
import { type MediaDevice, SMALL_STREAMS, startMediaDevice } from '../helpers/media.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';

const cloud = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');

describe('live view over WebRTC', () => {
  let broker: Mosquitto;
  let observer: Observer;
  let cam: MediaDevice;
  let speakerPath: string;
  const token = (
    rights: ('live' | 'talk')[],
    extra: { sub?: string; ttlSeconds?: number; now?: number; key?: typeof cloud.privateKey } = {},
  ) =>
    signViewerToken(
      {
        sub: extra.sub ?? cam.device.serial,
        rights,
        ttlSeconds: extra.ttlSeconds ?? 300,
        ...(extra.now ? { now: extra.now } : {}),
      },
      extra.key ?? cloud.privateKey,
    );

  beforeAll(async () => {
    speakerPath = join(await mkdtemp(join(tmpdir(), 'speaker-')), 'speaker.ulaw');
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/#']);
    cam = await startMediaDevice(broker.url, {
      webrtc: {
        cloudKeys: [cloud.publicKey.export({ type: 'spki', format: 'pem' }).toString()],
        speaker: { kind: 'file', path: speakerPath },
        // The shortest allowed: the test of a viewer that never connects waits for it.
        connectTimeoutSeconds: 5,
      },
    });
    // As the app does: an offer goes to a camera it has seen online (an earlier one would be lost).
    await observer.waitFor(
      (m) => m.topic === `cam/v1/${cam.device.serial}/status` && m.json().state === 'online',
      'the camera online',
      60_000,
    );
  }, 90_000);
  afterAll(async () => {
    await cam.daemon.kill();
    await observer.close();
    await broker.stop();
  });

  // The first offer of a daemon imports werift: on a loaded 2-core machine that has taken tens of seconds.
  it('streams H.264 that decodes at the main size, and plays talk-back on the speaker', async () => {
    const app = new AppPeer(observer, cam.device.serial);
    const answer = await app.offer(token(['live', 'talk']));
    expect(answer).toMatchObject({ talk: { granted: true } });
    expect(String(answer.sdp)).toMatch(/a=rtpmap:\d+ H264\/90000/);
    await app.videoUntil(150);
    // The camera's candidates follow its answer, never precede it (no peer takes a candidate before
    // the description it belongs to). Its own carry no token; the app's do.
    const seen = observer.seen.map((m) => m.topic);
    const answerAt = seen.indexOf(app.topic('answer'));
    const deviceCandidates = observer.seen
      .map((m, i) => ({ m, i }))
      .filter(({ m }) => m.topic === app.topic('candidate') && !('token' in m.json<object>()));
    expect(answerAt).toBeGreaterThanOrEqual(0);
    expect(deviceCandidates.length).toBeGreaterThan(0);
    for (const { i } of deviceCandidates) expect(i).toBeGreaterThan(answerAt);

    const decoded = await probeAnnexB(toAnnexB(app.videoPackets));
    expect(decoded).toBe(`${SMALL_STREAMS.main.width},${SMALL_STREAMS.main.height}`);

    await sendTone(app);
    const played = JSON.parse(await cam.daemon.waitForLog('talk-back audio played'));
    expect(played.levelDbfs).toBeGreaterThan(-30);
    expect((await stat(speakerPath)).size).toBeGreaterThanOrEqual(8000);
    await app.close();
    // The app says goodbye, which frees the speaker at once.
    await app.bye();
    await cam.daemon.waitForLog('webrtc session closed');
  }, 120_000);

  it('lets only one viewer talk at a time: the second is told the speaker is busy', async () => {
    const first = new AppPeer(observer, cam.device.serial);
    expect(await first.offer(token(['live', 'talk']))).toMatchObject({ talk: { granted: true } });
    const second = new AppPeer(observer, cam.device.serial);
    const answer = await second.offer(token(['live', 'talk']));
    expect(answer).toHaveProperty('sdp');
    expect(answer).toMatchObject({ talk: { granted: false, reason: 'speaker_busy' } });
    await Promise.all([first.close(), second.close()]);
    for (const peer of [first, second]) await peer.bye();
  });

  it('refuses each kind of bad token with its own code', async () => {
    const cases: [string | undefined, string][] = [
      [undefined, 'token_missing'],
      ['not.a.token', 'token_malformed'],
      [token(['live'], { key: stranger.privateKey }), 'token_bad_signature'],
      [token(['live'], { now: Date.now() - 3_600_000, ttlSeconds: 60 }), 'token_expired'],
      [token(['live'], { sub: 'SOMEONEELSE' }), 'token_wrong_device'],
      [token(['talk']), 'token_no_right'],
    ];
    for (const [bad, code] of cases) {
      const app = new AppPeer(observer, cam.device.serial);
      expect(await app.offer(bad)).toMatchObject({ error: { code } });
      await app.close();
    }
    const once = token(['live']);
    const first = new AppPeer(observer, cam.device.serial);
    expect(await first.offer(once)).toHaveProperty('sdp');
    const replay = new AppPeer(observer, cam.device.serial);
    expect(await replay.offer(once)).toMatchObject({ error: { code: 'token_replayed' } });
    await Promise.all([first.close(), replay.close()]);
    await first.bye();
  });

  it('refuses garbage SDP, huge candidates and unknown sessions without crashing', async () => {
    const app = new AppPeer(observer, cam.device.serial);
    const answer = observer.next((m) => m.topic === app.topic('answer'), 'answer to garbage');
    await observer.client.publishAsync(
      app.topic('offer'),
      JSON.stringify({ sdp: 'v=0\r\ngarbage', token: token(['live']) }),
      { qos: 1 },
    );
    expect((await answer).json()).toMatchObject({ error: { code: 'bad_offer' } });
    const notJson = observer.next(
      (m) => m.topic === `cam/v1/${cam.device.serial}/webrtc/x1/answer`,
      'answer to non-JSON',
    );
    await observer.client.publishAsync(`cam/v1/${cam.device.serial}/webrtc/x1/offer`, 'nope', { qos: 1 });
    expect((await notJson).json()).toMatchObject({ error: { code: 'bad_request' } });
    await observer.client.publishAsync(
      `cam/v1/${cam.device.serial}/webrtc/unknown/candidate`,
      JSON.stringify({ candidate: 'x'.repeat(100000) }),
      { qos: 1 },
    );
    await observer.client.publishAsync(`cam/v1/${cam.device.serial}/webrtc/unknown/close`, '{}', { qos: 1 });
    // Still serving: a good offer is answered.
    const good = new AppPeer(observer, cam.device.serial);
    expect(await good.offer(token(['live']))).toHaveProperty('sdp');
    await good.close();
    await good.bye();
    expect(cam.daemon.child.exitCode).toBeNull();
  });

  it('ends a session and frees the speaker when its token expires', async () => {
    const signedAt = Date.now();
    const app = new AppPeer(observer, cam.device.serial);
    const answer = await app.offer(token(['live', 'talk'], { ttlSeconds: 10, now: signedAt }));
    expect(answer).toMatchObject({ talk: { granted: true } });
    await app.videoUntil(10);
    const closed = await observer.next(
      (m) => m.topic === app.topic('close') && 'reason' in m.json(),
      'close from the device at expiry',
      20000,
    );
    const expMs = (Math.floor(signedAt / 1000) + 10) * 1000;
    expect(closed.json()).toEqual({ reason: 'token_expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(expMs);
    expect(Date.now()).toBeLessThan(expMs + 3000);
    // The talk-back right ended with it: the next viewer may talk.
    const next = new AppPeer(observer, cam.device.serial);
    expect(await next.offer(token(['live', 'talk']))).toMatchObject({ talk: { granted: true } });
    await next.videoUntil(5);
    // And its voice reaches the speaker (the expired talker's close did not take the new file away).
    const linesBefore = cam.daemon.stdout.lines.length;
    const playedAgain = cam.daemon.stdout.waitFor(
      (line) =>
        line.includes('"msg":"talk-back audio played"') &&
        cam.daemon.stdout.lines.indexOf(line) >= linesBefore,
      'talk-back from the next viewer',
    );
    await sendTone(next);
    await playedAgain;
    await Promise.all([app.close(), next.close()]);
    await next.bye();
  }, 60_000);

  it("ignores close and candidate that lack the offer's token: the session keeps streaming", async () => {
    const app = new AppPeer(observer, cam.device.serial);
    const ownerToken = token(['live']);
    await app.offer(ownerToken);
    await app.videoUntil(10);
    // Someone else who may publish on the topic: another client, with no token or another valid one.
    const stranger = await Observer.connect(broker.url, []);
    const publish = (kind: string, body: unknown) =>
      stranger.client.publishAsync(app.topic(kind), JSON.stringify(body), { qos: 1 });
    await publish('close', {});
    await publish('close', { token: token(['live']) });
    await publish('candidate', { candidate: 'candidate:1 1 udp 1 192.0.2.1 9 typ host', sdpMid: '0' });
    await stranger.close();
    const ignored = (kind: string) =>
      cam.daemon.stdout.waitFor(
        (line) =>
          line.includes(`"msg":"${kind} without the offer's token ignored"`) && line.includes(app.sessionId),
        `${kind} ignored`,
      );
    await Promise.all([ignored('close'), ignored('candidate')]);
    await app.videoUntil(app.videoPackets.length + 30);
    // The owner's candidates count, up to 64 per session: a flood of them is cut off, logged.
    for (let n = 0; n < 70; n += 1) {
      await observer.client.publishAsync(
        app.topic('candidate'),
        JSON.stringify({
          candidate: `candidate:${n} 1 udp 1 192.0.2.${n} 9 typ host`,
          sdpMid: '0',
          sdpMLineIndex: 0,
          token: ownerToken,
        }),
        { qos: 1 },
      );
    }
    await cam.daemon.stdout.waitFor(
      (line) => line.includes('"msg":"candidate refused"') && line.includes('"code":"busy"'),
      'the 65th candidate refused',
    );
    await app.videoUntil(app.videoPackets.length + 10);
    const fromDevice = observer.seen.filter((m) => m.topic === app.topic('close') && 'reason' in m.json());
    expect(fromDevice).toEqual([]);
    // The owner's close, with the token, still ends it.
    await app.bye();
    await cam.daemon.stdout.waitFor(
      (line) =>
        line.includes('"msg":"webrtc session closed"') &&
        line.includes(app.sessionId) &&
        line.includes('closed_by_viewer'),
      'the owner closes the session',
    );
    await app.close();
  }, 60_000);

  it('closes a session whose viewer never completes ICE', async () => {
    const app = new AppPeer(observer, cam.device.serial);
    await app.pc.setLocalDescription(await app.pc.createOffer());
    const answered = observer.next((m) => m.topic === app.topic('answer'), 'answer');
    // The offer only: the viewer never takes the answer, so no connectivity check ever succeeds.
    await observer.client.publishAsync(
      app.topic('offer'),
      JSON.stringify({ sdp: app.pc.localDescription?.sdp, token: token(['live']) }),
      { qos: 1 },
    );
    expect((await answered).json()).toHaveProperty('sdp');
    const closed = await observer.next(
      (m) => m.topic === app.topic('close') && 'reason' in m.json(),
      'close at the connect timeout',
      15000,
    );
    expect(closed.json()).toEqual({ reason: 'connect_timeout' });
    await app.close();
  }, 30_000);

  it('ends a live session when privacy mode turns on, and refuses new ones', async () => {
    const app = new AppPeer(observer, cam.device.serial);
    await app.offer(token(['live']));
    await app.videoUntil(10);
    const closed = observer.next((m) => m.topic === app.topic('close'), 'close from the device', 1000);
    const t = (s: string) => `cam/v1/${cam.device.serial}/${s}`;
    await observer.client.publishAsync(
      t('state/desired'),
      JSON.stringify({ version: 50, state: { privacyMode: true } }),
      { qos: 1 },
    );
    expect((await closed).json()).toEqual({ reason: 'privacy_mode' });
    const refused = new AppPeer(observer, cam.device.serial);
    expect(await refused.offer(token(['live']))).toMatchObject({ error: { code: 'privacy_mode' } });
    await Promise.all([app.close(), refused.close()]);
  });
});

/** The viewer talks: a 1 kHz tone as PCMU, 20 ms per packet, 2 s. */
async function sendTone(app: AppPeer): Promise<void> {
  const tone = Buffer.alloc(160);
  for (let i = 0; i < 160; i += 1) tone[i] = i % 8 < 4 ? 0x10 : 0x90;
  for (let n = 0; n < 100; n += 1) {
    app.talkTrack.writeRtp(
      new RtpPacket(
        new RtpHeader({ payloadType: 0, sequenceNumber: n, timestamp: n * 160, marker: n === 0 }),
        tone,
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Width and height ffprobe finds in an H.264 elementary stream given on stdin. */
function probeAnnexB(stream: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(
      'ffprobe',
      ['-v', 'error', '-f', 'h264', '-i', 'pipe:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('close', () => resolve(out.trim()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stream);
  });
}
