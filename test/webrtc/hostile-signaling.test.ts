import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { signViewerToken } from '../../src/webrtc/token.js';
import { AppPeer } from '../helpers/app-peer.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { SMALL_STREAMS } from '../helpers/media.js';
import { Observer } from '../helpers/observer.js';

const SEED = 20261205;
const RUNS = 350;
const BURST = 150;

/** One hostile signaling exchange: the offer's payload (given a fresh valid token), then candidates if answered. */
interface Hostile {
  label: string;
  offer: (token: string) => string | Buffer;
  candidates: unknown[];
}

const junk = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 20, unit: 'binary' }),
  fc.integer().map(String),
  fc.constantFrom(
    '',
    '-1',
    '0',
    '65536',
    '99999999999999999999',
    'NaN',
    '\u0000',
    '%s%n',
    '::',
    'x'.repeat(3000),
  ),
);

const hostileLines = fc.oneof(
  junk.map((v) => `a=${v}`),
  fc.constantFrom(
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'm=audio 0 RTP/AVP',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'a=rtpmap:96',
    'a=rtpmap:96 H264/0',
    'a=fmtp:96',
    'a=rtcp-fb:96',
    'a=ssrc:1',
    'a=ssrc-group:FID 1',
    'a=group:BUNDLE 0 1 2 3 4',
    'a=candidate:1 1 udp 1 1.2.3.4 5 typ host',
    'a=candidate:',
    'a=fingerprint:sha-256 00',
    'a=fingerprint:',
    'a=setup:bogus',
    'a=ice-ufrag:',
    'a=ice-pwd:',
    'c=IN IP4',
    'a=mid:',
    'a=extmap:99999 x',
    'a=rid:x send',
    'a=simulcast:send x;y',
    'a=msid:',
    'a=sctp-port:-1',
  ),
);

type Mutation =
  | { op: 'delete' | 'dup' | 'truncate'; at: number }
  | { op: 'value' | 'word'; at: number; value: string }
  | { op: 'insert'; at: number; line: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('delete' as const, 'dup' as const, 'truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constantFrom('value' as const, 'word' as const), at: fc.nat(), value: junk }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), line: hostileLines }),
);

function mutate(base: string, mutations: Mutation[], eol: string): string {
  const lines = base.split('\r\n').filter(Boolean);
  for (const m of mutations) {
    if (lines.length === 0) break;
    const at = m.at % lines.length;
    const line = lines[at] ?? '';
    if (m.op === 'delete') lines.splice(at, 1);
    else if (m.op === 'dup') lines.splice(at, 0, line);
    else if (m.op === 'truncate') lines[at] = line.slice(0, m.at % (line.length + 1));
    else if (m.op === 'insert') lines.splice(at, 0, m.line);
    else if (m.op === 'value') lines[at] = `${line.slice(0, line.indexOf(':') + 1 || 2)}${m.value}`;
    else {
      const words = line.split(' ');
      words[m.at % words.length] = 'value' in m ? m.value : '';
      lines[at] = words.join(' ');
    }
  }
  return `${lines.join(eol)}${eol}`;
}

const candidate = fc.oneof(
  fc.record({
    candidate: fc.tuple(fc.nat({ max: 7 }), junk).map(([at, value]) => {
      const words = 'candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host'.split(' ');
      words[at] = value;
      return words.join(' ');
    }),
    sdpMid: fc.oneof(fc.constant('0'), junk, fc.constant(null)),
    sdpMLineIndex: fc.oneof(fc.nat({ max: 20 }), fc.constant(-1), fc.constant(null), fc.double()),
  }),
  fc.anything({ maxDepth: 3 }),
);

function hostile(base: string): fc.Arbitrary<Hostile> {
  const json = (body: (token: string) => unknown) => (token: string) => JSON.stringify(body(token));
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record({
          mutations: fc.array(mutation, { minLength: 1, maxLength: 8 }),
          eol: fc.constantFrom('\r\n', '\n'),
          candidates: fc.array(candidate, { maxLength: 6 }),
        })
        .map(({ mutations, eol, candidates }) => ({
          label: 'mutated sdp',
          offer: json((token) => ({ sdp: mutate(base, mutations, eol), token })),
          candidates,
        })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 60_000, max: 400_000 }).map((size) => ({
        label: 'huge sdp',
        offer: json((token) => ({ sdp: `v=0\r\na=x:${'y'.repeat(size)}\r\n`, token })),
        candidates: [],
      })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 2, max: 40 }).map((copies) => {
        const at = base.indexOf('m=video');
        const end = base.indexOf('m=audio');
        const section = base.slice(at, end > at ? end : undefined);
        return {
          label: 'many m-lines',
          offer: json((token) => ({ sdp: base.slice(0, at) + section.repeat(copies), token })),
          candidates: [],
        };
      }),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.anything().map((sdp) => json((token) => ({ sdp, token }))),
          fc.anything().map((token) => json(() => ({ sdp: base, token }))),
          fc.anything().map((body) => json(() => body)),
          fc.uint8Array({ maxLength: 2000 }).map((bytes) => () => Buffer.from(bytes)),
          fc.nat({ max: 100_000 }).map((depth) => () => `${'['.repeat(depth)}${']'.repeat(depth)}`),
          fc.constant(json((token) => JSON.parse(`{"__proto__":{"sdp":"v=0"},"token":"${token}"}`))),
        )
        .map((offer) => ({ label: 'wrong types', offer, candidates: [] })),
    },
    {
      weight: 2,
      arbitrary: fc.array(candidate, { minLength: 1, maxLength: 20 }).map((candidates) => ({
        label: 'good offer, hostile candidates',
        offer: json((token) => ({ sdp: base, token })),
        candidates,
      })),
    },
  );
}

/** Resident memory of a process in MB, from /proc. */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Open file descriptors of a process (sockets of sessions not freed would show here). */
async function fds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

describe('hostile WebRTC signaling against a live simulator', () => {
  let sim: DaemonProcess;
  let observer: Observer;
  let deviceId: string;
  let cloudKey: KeyObject;
  let baseSdp: string;
  const token = (rights: ('live' | 'talk')[] = ['live']) =>
    signViewerToken({ sub: deviceId, rights, ttlSeconds: 600 }, cloudKey);

  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sim-hostile-webrtc-'));
    await writeFile(
      join(dataDir, 'state.json'),
      JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
    );
    sim = new DaemonProcess([
      'sim',
      '--data-dir',
      dataDir,
      '--broker-port',
      '0',
      '--ws-port',
      '0',
      '--console-port',
      '0',
      '--rtsp-port',
      '0',
    ]);
    deviceId = await sim.banner('device id');
    const mqttUrl = await sim.banner('mqtt');
    await sim.waitForLog('agent started');
    cloudKey = createPrivateKey(await readFile(join(dataDir, 'factory', 'cloud-key.pem'), 'utf8'));
    observer = await Observer.connect(mqttUrl, [`cam/v1/${deviceId}/webrtc/+/answer`]);
    // A real offer to mutate, as the app's werift peer makes it.
    const pc = new RTCPeerConnection({
      iceServers: [],
      bundlePolicy: 'max-bundle',
      codecs: {
        video: [
          new RTCRtpCodecParameters({
            mimeType: 'video/H264',
            clockRate: 90000,
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
            parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
          }),
        ],
        audio: [
          new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
        ],
      },
    });
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    await pc.setLocalDescription(await pc.createOffer());
    baseSdp = pc.localDescription?.sdp ?? '';
    await pc.close();
  }, 60_000);
  afterAll(async () => {
    await observer?.close();
    await sim?.kill();
  });

  it('stays up, answers every offer, and an honest viewer keeps its frames', async () => {
    const root = `cam/v1/${deviceId}/webrtc`;
    const publish = (topic: string, payload: string | Buffer) =>
      observer.client.publishAsync(topic, payload, { qos: 1 });
    // Answers are subscribed; the honest viewer also needs its candidates.
    await observer.client.subscribeAsync(`${root}/+/candidate`, { qos: 1 });
    // A viewer connects as the app does: a session whose handshake stalls is dropped for a fresh one.
    // On a loaded 2-core machine the camera's DTLS client used to fail when the test viewer's
    // HelloVerifyRequest came late (patched since: docs/webrtc.md, "werift patches"); hostile input that
    // broke new sessions would still fail both tries, and the retries are printed.
    const retries: string[] = [];
    const connectViewer = async (): Promise<AppPeer> => {
      for (let attempt = 1; ; attempt += 1) {
        const peer = new AppPeer(observer, deviceId);
        expect(await peer.offer(token())).toHaveProperty('sdp');
        try {
          await peer.videoUntil(20);
          return peer;
        } catch (err) {
          await peer.close();
          if (attempt === 2) throw err;
          retries.push(String(err));
        }
      }
    };
    const honest = await connectViewer();
    const rssBefore = await rssMb(sim.child.pid ?? 0);
    const fdsBefore = await fds(sim.child.pid ?? 0);
    const started = Date.now();

    const inputs = fc.sample(hostile(baseSdp), { seed: SEED, numRuns: RUNS });
    const codes = new Map<string, number>();
    let unanswered = 0;
    let candidatesSent = 0;
    for (const [i, input] of inputs.entries()) {
      const sessionId = `f${i}`;
      const offerToken = token();
      const answered = observer.next((m) => m.topic === `${root}/${sessionId}/answer`, `answer ${i}`, 25_000);
      await publish(`${root}/${sessionId}/offer`, input.offer(offerToken));
      const answer = await answered.then(
        (m) => m.json<{ sdp?: string; error?: { code: string } }>(),
        () => undefined,
      );
      if (!answer) unanswered += 1;
      const code = answer?.error?.code ?? (answer?.sdp ? 'answered' : 'none');
      codes.set(`${input.label}: ${code}`, (codes.get(`${input.label}: ${code}`) ?? 0) + 1);
      if (answer?.sdp) {
        for (const c of input.candidates) {
          const body =
            c !== null && typeof c === 'object' && !Array.isArray(c) ? { ...c, token: offerToken } : c;
          await publish(`${root}/${sessionId}/candidate`, JSON.stringify(body) ?? 'undefined');
          candidatesSent += 1;
        }
        await publish(`${root}/${sessionId}/close`, JSON.stringify({ token: offerToken }));
      }
      if (sim.child.exitCode !== null) break;
    }

    // Many sessions at once: offers in a burst, half of them the largest SDP allowed.
    const burst = Array.from({ length: BURST }, (_, i) => ({ id: `b${i}`, token: token() }));
    await Promise.all(
      burst.map(({ id, token: t }, i) =>
        publish(
          `${root}/${id}/offer`,
          JSON.stringify({ sdp: i % 2 ? baseSdp : `${baseSdp}a=x:${'y'.repeat(60_000)}\r\n`, token: t }),
        ),
      ),
    );
    // The queue is in order: once a later offer is answered, the burst has been dealt with.
    let drained = false;
    for (let attempt = 0; attempt < 10 && !drained; attempt += 1) {
      const id = `sentinel${attempt}`;
      const answered = observer.next((m) => m.topic === `${root}/${id}/answer`, 'sentinel', 10_000);
      await publish(`${root}/${id}/offer`, 'not json');
      drained = await answered.then(
        () => true,
        () => false,
      );
    }
    const burstAnswers = observer.seen.filter((m) => /\/b\d+\/answer$/.test(m.topic)).map((m) => m.json());
    for (const { id, token: t } of burst) await publish(`${root}/${id}/close`, JSON.stringify({ token: t }));
    const rssAfter = await rssMb(sim.child.pid ?? 0);
    const fdsAfter = await fds(sim.child.pid ?? 0);

    // The honest viewer kept its frames all along, and a new one still connects.
    await honest.videoUntil(honest.videoPackets.length + 30);
    const late = await connectViewer();
    const crashes = sim.child.exitCode === null ? 0 : 1;
    const failures = sim.stdout.lines.filter((l) => l.includes('"msg":"signaling failed"')).length;

    console.log(
      [
        `hostile WebRTC signaling, seed ${SEED}: inputs tried ${inputs.length} offers + ${candidatesSent} candidates + burst of ${BURST}, crashes: ${crashes}, unanswered: ${unanswered}, handler failures: ${failures}, ${((Date.now() - started) / 1000).toFixed(1)} s`,
        `burst: ${burstAnswers.filter((a) => 'sdp' in a).length} answered with sdp, ${burstAnswers.filter((a) => 'error' in a).length} refused, ${BURST - burstAnswers.length} dropped unanswered (queue full), drained: ${drained}`,
        `daemon RSS ${rssBefore.toFixed(0)} MB before, ${rssAfter.toFixed(0)} MB after; open fds ${fdsBefore} before, ${fdsAfter} after`,
        `viewer sessions retried: ${retries.length}${retries.map((r) => `\n  ${r}`).join('')}`,
        ...[...codes].sort().map(([k, n]) => `  ${k}: ${n}`),
      ].join('\n'),
    );
    expect(crashes).toBe(0);
    expect(unanswered).toBe(0);
    expect(failures).toBe(0);
    expect(drained).toBe(true);
    expect(sim.stderr.lines.filter((l) => /Unhandled|uncaught/i.test(l))).toEqual([]);
    await Promise.all([honest.close(), late.close()]);
    await Promise.all([honest.bye(), late.bye()]);
  }, 240_000);
});
