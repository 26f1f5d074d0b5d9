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
      },
    });
  });
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

    const decoded = await probeAnnexB(toAnnexB(app.videoPackets));
    expect(decoded).toBe(`${SMALL_STREAMS.main.width},${SMALL_STREAMS.main.height}`);

    // The viewer talks: a 1 kHz tone as PCMU, 20 ms per packet.
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
    const played = JSON.parse(await cam.daemon.waitForLog('talk-back audio played'));
    expect(played.levelDbfs).toBeGreaterThan(-30);
    expect((await stat(speakerPath)).size).toBeGreaterThanOrEqual(8000);
    await app.close();
    // The app says goodbye, which frees the speaker at once.
    await observer.client.publishAsync(app.topic('close'), '{}', { qos: 1 });
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
    for (const peer of [first, second])
      await observer.client.publishAsync(peer.topic('close'), '{}', { qos: 1 });
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
    await observer.client.publishAsync(first.topic('close'), '{}', { qos: 1 });
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
    await observer.client.publishAsync(good.topic('close'), '{}', { qos: 1 });
    expect(cam.daemon.child.exitCode).toBeNull();
  });

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
