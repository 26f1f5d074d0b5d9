// WebRTC live view: offer-to-first-frame time on loopback, the daemon's RSS idle (with WebRTC support
// and without it, to check that werift is loaded lazily) and with 1 and 4 sessions, and its CPU per
// session, for a 720p25 main stream.
// Run: npm run bench, or alone: node --import tsx bench/webrtc.ts (figures printed, nothing asserted).
//
// One Mosquitto, one daemon at a time capturing a looped noisy clip (libx264, main 1280x720@25 at
// 2 Mb/s; the built-in test pattern is too still to fill that), and the phone app's side played by
// test/helpers/app-peer.ts: werift peers in this process, signaled over Mosquitto with viewer tokens
// signed by a key made here. RSS is VmRSS of the daemon's own pid (its
// capture ffmpeg is a separate process, shown apart); CPU is utime+stime from /proc/<pid>/stat over a
// fixed window. The werift receivers (ICE, DTLS, SRTP decryption) run in this bench process, on the
// same cores as the daemon and its encoder: their cost is printed too.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { signViewerToken } from '../src/webrtc/token.js';
import { AppPeer } from '../test/helpers/app-peer.js';
import { DaemonProcess, prepareDevice } from '../test/helpers/daemon.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { Observer } from '../test/helpers/observer.js';

const MAIN = { width: 1280, height: 720, fps: 25, bitrateKbps: 2000 };
const SUB = { width: 640, height: 360, fps: 15, bitrateKbps: 512 };
const FIRST_FRAME_RUNS = 10;
const WINDOW_MS = 10_000;
/** After a daemon starts or sessions are added, before a window begins. */
const SETTLE_MS = 4_000;
/** Daemons started without and with WebRTC support, alternately, for the idle comparison. */
const IDLE_ROUNDS = 2;
const CLIP_SECONDS = 4;
const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux
const GOALS = { firstFrameMs: 500, perSessionMb: 8, perSessionCpuPct: 5 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- /proc -----------------------------------------------------------------------------------

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN') / 1024;
}

/** The daemon's ffmpeg children (its capture), found by parent pid. */
async function ffmpegChildren(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && comm === 'ffmpeg') found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** UDP sockets the process holds: its socket fds whose inode is in /proc/<pid>/net/udp{,6}. */
async function udpSockets(pid: number): Promise<number> {
  const inodes = new Set<string>();
  for (const table of ['udp', 'udp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode) inodes.add(inode);
    }
  }
  let count = 0;
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode && inodes.has(inode)) count += 1;
  }
  return count;
}

interface Window {
  /** The daemon's CPU, percent of one core. */
  cpu: number;
  /** The daemon's VmRSS, median of one reading a second through the window, MB. */
  rss: number;
  ffmpegCpu: number;
  benchCpu: number;
  /** Video received by the slowest session, kbit/s, and its packets per second; NaN with none. */
  videoKbps: number;
  videoPps: number;
}

/** CPU of the daemon, its ffmpeg and this process over WINDOW_MS, and the daemon's RSS through it. */
async function measure(pid: number, sessions: AppPeer[] = []): Promise<Window> {
  const received = () =>
    sessions.map((app) => ({
      packets: app.videoPackets.length,
      bytes: app.videoPackets.reduce((sum, rtp) => sum + rtp.payload.length, 0),
    }));
  const ffmpegs = await ffmpegChildren(pid);
  const ticks = async (pids: number[]) =>
    (await Promise.all(pids.map((p) => cpuTicks(p).catch(() => 0)))).reduce((a, b) => a + b, 0);
  const began = performance.now();
  const bench0 = process.cpuUsage();
  const daemon0 = await cpuTicks(pid);
  const ffmpeg0 = await ticks(ffmpegs);
  const before = received();
  const rss: number[] = [];
  for (let second = 0; second < WINDOW_MS / 1000; second += 1) {
    await sleep(1000);
    rss.push(await rssMb(pid));
  }
  const daemon1 = await cpuTicks(pid);
  const ffmpeg1 = await ticks(ffmpegs);
  const bench = process.cpuUsage(bench0);
  const seconds = (performance.now() - began) / 1000;
  const after = received();
  const slowest = (pick: (r: { packets: number; bytes: number }) => number) =>
    Math.min(...after.map((r, i) => pick(r) - pick(before[i] ?? r))) / seconds;
  const pct = (t: number) => (t / TICKS_PER_SECOND / seconds) * 100;
  return {
    cpu: pct(daemon1 - daemon0),
    rss: quantile(rss, 0.5),
    ffmpegCpu: pct(ffmpeg1 - ffmpeg0),
    benchCpu: ((bench.user + bench.system) / 1e6 / seconds) * 100,
    videoKbps: sessions.length ? (slowest((r) => r.bytes) * 8) / 1000 : Number.NaN,
    videoPps: sessions.length ? slowest((r) => r.packets) : Number.NaN,
  };
}

function average(windows: Window[]): Window {
  const mean = (pick: (w: Window) => number) => windows.reduce((sum, w) => sum + pick(w), 0) / windows.length;
  return {
    cpu: mean((w) => w.cpu),
    rss: mean((w) => w.rss),
    ffmpegCpu: mean((w) => w.ffmpegCpu),
    benchCpu: mean((w) => w.benchCpu),
    videoKbps: mean((w) => w.videoKbps),
    videoPps: mean((w) => w.videoPps),
  };
}

// ---- the device ------------------------------------------------------------------------------

/**
 * The picture: a short testsrc2 clip with temporal noise, looped by the daemon's capture. The built-in
 * test pattern is almost still, so libx264 makes about 65 kb/s of it whatever the bitrate setting; a
 * camera's scene at night is closer to noise, and fills the 2 Mb/s the sessions are meant to carry.
 */
async function makeClip(dir: string): Promise<string> {
  const clip = join(dir, 'noise-720p25.mp4');
  await promisify(execFile)(
    'ffmpeg',
    [
      '-nostdin',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${MAIN.width}x${MAIN.height}:rate=${MAIN.fps},noise=alls=10:allf=t+u`,
      '-t',
      String(CLIP_SECONDS),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '26',
      '-pix_fmt',
      'yuv420p',
      clip,
    ],
    { timeout: 120_000 },
  );
  return clip;
}

interface Device {
  dir: string;
  serial: string;
  daemon: DaemonProcess;
  pid: number;
}

async function startDevice(
  brokerUrl: string,
  clip: string,
  webrtc: Record<string, unknown>,
): Promise<Device> {
  const device = await prepareDevice(
    { url: brokerUrl },
    {
      log: { level: 'info' },
      media: {
        enabled: true,
        source: { kind: 'file', path: clip },
        restart: { initialMs: 100, maxMs: 1000 },
      },
      rtsp: { host: '127.0.0.1', port: 0 },
      webrtc: { speaker: { kind: 'none' }, ...webrtc },
    },
  );
  await writeFile(
    join(device.dataDir, 'state.json'),
    JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: { main: MAIN, sub: SUB } } }),
  );
  const daemon = DaemonProcess.run(device.configPath);
  await daemon.waitForLog('rtsp server listening', 20000);
  // Capture running, a GOP cached, start-up garbage collected: the idle footprint, not the peak.
  await sleep(SETTLE_MS);
  return { dir: device.dir, serial: device.serial, daemon, pid: daemon.child.pid ?? 0 };
}

// ---- sessions --------------------------------------------------------------------------------

/** An RTP payload (RFC 6184) that begins a keyframe: STAP-A with an SPS or IDR, FU-A start of an IDR, or an SPS/IDR NAL. */
function startsKeyframe(payload: Buffer): boolean {
  const type = (payload[0] ?? 0) & 0x1f;
  if (type === 5 || type === 7) return true;
  if (type === 28) return ((payload[1] ?? 0) & 0x80) !== 0 && ((payload[1] ?? 0) & 0x1f) === 5;
  if (type === 24) {
    for (let at = 1; at + 3 <= payload.length; ) {
      const nal = (payload[at + 2] ?? 0) & 0x1f;
      if (nal === 7 || nal === 5) return true;
      at += 2 + payload.readUInt16BE(at);
    }
  }
  return false;
}

interface Timing {
  answer: number;
  connected: number;
  firstPacket: number;
  firstKeyframe: number;
}

interface Live {
  app: AppPeer;
  timing: Timing;
  /**
   * The app peer's transports as first made, one per transceiver. werift 0.24.4 (default bundlePolicy
   * "max-compat") swaps the audio transceiver onto the bundle transport when the answer arrives and
   * never stops the one it drops, whose UDP sockets would keep this process alive: stopped here.
   */
  transports: { stop(): Promise<void> }[];
}

/** Opens a session; resolves once a packet starting a keyframe has arrived, with the times from publishing the offer. */
async function openSession(
  observer: Observer,
  device: Device,
  privateKey: Parameters<typeof signViewerToken>[1],
) {
  const app = new AppPeer(observer, device.serial);
  const transports = [...app.pc.dtlsTransports];
  const offerTopic = app.topic('offer');
  let offerAt = Number.NaN;
  const onSend = (packet: { cmd: string; topic?: string }) => {
    if (packet.cmd === 'publish' && packet.topic === offerTopic) offerAt = performance.now();
  };
  observer.client.on('packetsend', onSend);
  const timing: Partial<Timing> = {};
  const gotKeyframe = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no keyframe for ${app.sessionId} in 15 s`)), 15000);
    app.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') timing.connected ??= performance.now() - offerAt;
    });
    app.pc.onTrack.subscribe((track) => {
      if (track.kind !== 'video') return;
      track.onReceiveRtp.subscribe((rtp) => {
        const at = performance.now() - offerAt;
        timing.firstPacket ??= at;
        if (timing.firstKeyframe === undefined && startsKeyframe(rtp.payload)) {
          timing.firstKeyframe = at;
          clearTimeout(timer);
          resolve();
        }
      });
    });
  });
  try {
    const answer = await app.offer(
      signViewerToken({ sub: device.serial, rights: ['live'], ttlSeconds: 300 }, privateKey),
    );
    timing.answer = performance.now() - offerAt;
    if (typeof answer.sdp !== 'string') throw new Error(`offer refused: ${JSON.stringify(answer)}`);
    await gotKeyframe;
  } finally {
    observer.client.off('packetsend', onSend);
  }
  return { app, timing: timing as Timing, transports } satisfies Live;
}

/** Ends a session the way the app does, and waits until the daemon has let it go. */
async function closeSession(observer: Observer, device: Device, live: Live): Promise<void> {
  const { app } = live;
  const closed = device.daemon.stdout.waitFor(
    (line) => line.includes('"msg":"webrtc session closed"') && line.includes(app.sessionId),
    `close of ${app.sessionId}`,
  );
  await observer.client.publishAsync(app.topic('close'), '{}', { qos: 1 });
  await closed;
  await app.close();
  await Promise.allSettled(live.transports.map((t) => t.stop()));
}

// ---- figures ---------------------------------------------------------------------------------

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

const ms = (v: number) => `${v.toFixed(0)} ms`.padStart(9);
const mb = (v: number) => `${v.toFixed(1)} MB`.padStart(10);
const pct = (v: number) => `${v.toFixed(1)} %`.padStart(9);
const signedMb = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)} MB`;
const signedPct = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)} %`;

// ---- the run ---------------------------------------------------------------------------------

const cloud = generateKeyPairSync('ed25519');
const cloudKeys = [cloud.publicKey.export({ type: 'spki', format: 'pem' }).toString()];
const began = performance.now();
const work = await mkdtemp(join(tmpdir(), 'bench-webrtc-'));
const clip = await makeClip(work);
const broker = await Mosquitto.start();
const observer = await Observer.connect(broker.url, ['cam/v1/#']);
// Each AppPeer adds a message listener to the shared client and never removes it.
observer.client.setMaxListeners(100);
const devices: Device[] = [];

try {
  // Idle, without WebRTC support at all and with it (werift not loaded yet), alternately; the last
  // daemon with WebRTC stays up for the sessions.
  const withoutRounds: Window[] = [];
  const withRounds: Window[] = [];
  let cam: Device | undefined;
  for (let round = 0; round < IDLE_ROUNDS; round += 1) {
    const plain = await startDevice(broker.url, clip, { enabled: false });
    devices.push(plain);
    withoutRounds.push(await measure(plain.pid));
    await plain.daemon.kill();
    cam = await startDevice(broker.url, clip, { enabled: true, cloudKeys });
    devices.push(cam);
    withRounds.push(await measure(cam.pid));
    if (round < IDLE_ROUNDS - 1) await cam.daemon.kill();
  }
  if (!cam) throw new Error('no daemon');
  const withoutWebrtc = average(withoutRounds);
  const idle = withRounds.at(-1) as Window;
  const udpIdle = await udpSockets(cam.pid);

  // The first session ever imports werift; closed, it leaves werift loaded and nothing open.
  const coldSession = await openSession(observer, cam, cloud.privateKey);
  await closeSession(observer, cam, coldSession);
  const cold = coldSession.timing;
  await sleep(SETTLE_MS);
  const loaded = await measure(cam.pid);

  const sessions = [await openSession(observer, cam, cloud.privateKey)];
  await sleep(SETTLE_MS);
  const with1 = await measure(
    cam.pid,
    sessions.map((l) => l.app),
  );
  for (let i = 1; i < 4; i += 1) sessions.push(await openSession(observer, cam, cloud.privateKey));
  await sleep(SETTLE_MS);
  const with4 = await measure(
    cam.pid,
    sessions.map((l) => l.app),
  );
  const udp4 = await udpSockets(cam.pid);
  for (const live of sessions) await closeSession(observer, cam, live);

  // Offer to first frame, sessions one after another, werift loaded.
  const warm: Timing[] = [];
  for (let i = 0; i < FIRST_FRAME_RUNS; i += 1) {
    const live = await openSession(observer, cam, cloud.privateKey);
    warm.push(live.timing);
    await closeSession(observer, cam, live);
  }
  await sleep(2000);
  const udpAfter = await udpSockets(cam.pid);
  const rssAfter = await rssMb(cam.pid);
  await cam.daemon.kill();

  // ---- print ----
  const col = (pick: (t: Timing) => number) => warm.map(pick);
  const cores = (await readFile('/proc/cpuinfo', 'utf8')).match(/^processor\s*:/gm)?.length ?? 0;
  const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

  console.log('');
  console.log(`webrtc live view (node ${process.version}, ${cores} cores, load average ${load}; loopback)`);
  console.log(
    `  source: ${CLIP_SECONDS} s testsrc2 clip with temporal noise, looped; daemon encodes main ${MAIN.width}x${MAIN.height}@${MAIN.fps} ${MAIN.bitrateKbps} kb/s (libx264), sub ${SUB.width}x${SUB.height}@${SUB.fps}, PCMU audio`,
  );
  console.log('  run: node --import tsx bench/webrtc.ts   (or npm run bench, which runs every benchmark)');
  console.log('');
  const header = (name: string, ...cols: [string, number][]) =>
    console.log(`  ${name.padEnd(46)}${cols.map(([c, w]) => c.padStart(w)).join('')}`);
  header(`offer published to ... (${warm.length} sessions in turn)`, ['median', 9], ['p90', 9], ['max', 9]);
  const timingRow = (name: string, pick: (t: Timing) => number) =>
    console.log(
      `    ${name.padEnd(44)}${ms(quantile(col(pick), 0.5))}${ms(quantile(col(pick), 0.9))}${ms(Math.max(...col(pick)))}`,
    );
  timingRow('answer received', (t) => t.answer);
  timingRow("the app's peer connected (ICE + DTLS)", (t) => t.connected);
  timingRow('first video packet', (t) => t.firstPacket);
  timingRow('first packet of a keyframe (first frame)', (t) => t.firstKeyframe);
  console.log(
    `    the first session of the daemon (imports werift): answer ${cold.answer.toFixed(0)} ms, connected ${cold.connected.toFixed(0)} ms, first frame ${cold.firstKeyframe.toFixed(0)} ms`,
  );
  console.log('');
  header(
    `daemon (own pid), ${WINDOW_MS / 1000} s windows`,
    ['RSS', 10],
    ['CPU', 9],
    ['its ffmpeg', 12],
    ['bench', 9],
    ['video/session', 19],
  );
  const row = (name: string, w: Window) =>
    console.log(
      `    ${name.padEnd(44)}${mb(w.rss)}${pct(w.cpu)}${pct(w.ffmpegCpu).padStart(12)}${pct(w.benchCpu)}${Number.isNaN(w.videoKbps) ? '' : `${w.videoKbps.toFixed(0)} kb/s ${w.videoPps.toFixed(0)} p/s`.padStart(19)}`,
    );
  row(`no WebRTC support, idle (mean of ${IDLE_ROUNDS} daemons)`, withoutWebrtc);
  row('WebRTC on, idle before the first offer', idle);
  row('werift loaded, 0 sessions', loaded);
  row('1 session', with1);
  row('4 sessions', with4);
  console.log(
    "    CPU in % of one core; bench = this process, where the app's werift peers run; video/session: the slowest session's",
  );
  console.log(
    `    RSS: median of 1 reading/s through the window; sessions had run ${SETTLE_MS / 1000} s when it began. WebRTC-on idle runs: ${withRounds.map((w) => w.rss.toFixed(1)).join(', ')} MB; off: ${withoutRounds.map((w) => w.rss.toFixed(1)).join(', ')} MB`,
  );
  console.log(
    `    daemon UDP sockets: ${udpIdle} idle, ${udp4} with 4 sessions, ${udpAfter} after all closed (RSS then ${rssAfter.toFixed(1)} MB)`,
  );
  console.log('');
  header('against the goals', ['figure', 9], ['   goal', 0]);
  const goal = (name: string, figure: string, target: string, ok: boolean) =>
    console.log(
      `    ${name.padEnd(44)}${figure.padStart(9)}   ${target.padEnd(10)} ${ok ? 'met' : 'MISSED'}`,
    );
  const ff = quantile(
    col((t) => t.firstKeyframe),
    0.5,
  );
  const ff90 = quantile(
    col((t) => t.firstKeyframe),
    0.9,
  );
  const firstGoal = `< ${GOALS.firstFrameMs} ms`;
  goal('first frame, median', `${ff.toFixed(0)} ms`, firstGoal, ff < GOALS.firstFrameMs);
  goal('first frame, p90', `${ff90.toFixed(0)} ms`, firstGoal, ff90 < GOALS.firstFrameMs);
  goal(
    'first frame, first session (imports werift)',
    `${cold.firstKeyframe.toFixed(0)} ms`,
    firstGoal,
    cold.firstKeyframe < GOALS.firstFrameMs,
  );
  const lazy = idle.rss - withoutWebrtc.rss;
  // Idle daemons alone differ by a few MB (see the runs above): only a clear increase misses.
  goal('idle RSS, WebRTC on minus off (lazy load)', signedMb(lazy), '< +3 MB', lazy < 3);
  const mbGoal = `< ${GOALS.perSessionMb} MB`;
  const cpuGoal = `< ${GOALS.perSessionCpuPct} %`;
  const perMb = (with4.rss - with1.rss) / 3;
  const perCpu = (with4.cpu - with1.cpu) / 3;
  goal('per added session RSS, (4 - 1 sessions) / 3', signedMb(perMb), mbGoal, perMb < GOALS.perSessionMb);
  goal(
    'per added session CPU, (4 - 1 sessions) / 3',
    signedPct(perCpu),
    cpuGoal,
    perCpu < GOALS.perSessionCpuPct,
  );
  goal(
    'first session CPU, 1 - 0 sessions',
    signedPct(with1.cpu - loaded.cpu),
    cpuGoal,
    with1.cpu - loaded.cpu < GOALS.perSessionCpuPct,
  );
  console.log(
    `    also: werift loaded, no session open ${signedMb(loaded.rss - idle.rss)} (paid at the first offer only); first session, 1 - 0 sessions ${signedMb(with1.rss - loaded.rss)}`,
  );
  console.log(
    "    the daemon's heap grows between collections (a burst of sessions lifts RSS by tens of MB for a few seconds), so",
  );
  console.log(
    '    a single RSS difference moves by several MB; the 4 - 1 sessions figure, both with sessions running, is the steady one',
  );
  console.log('');
  console.log(
    `  note: the app's werift peers (ICE, DTLS, SRTP decryption) run in this bench process on the same ${cores} cores as the`,
  );
  console.log(
    '  daemon and its encoder, so they compete with what is measured (bench column); whatever else runs on the machine does too.',
  );
  const load1 = Number(load.split(' ')[0]);
  if (load1 > cores || with4.videoKbps < 0.8 * with1.videoKbps) {
    console.log(
      `  warning: the machine was busy (load ${load1} on ${cores} cores; video per session ${with1.videoKbps.toFixed(0)} kb/s with 1, ${with4.videoKbps.toFixed(0)} kb/s with 4):`,
    );
    console.log(
      '  when the encoder falls behind, sessions carry less video and the CPU per session reads low; run it on a quiet machine.',
    );
  }
  console.log(`  ${Math.round((performance.now() - began) / 1000)} s in all.`);
} finally {
  for (const device of devices) {
    await device.daemon.kill();
    await rm(device.dir, { recursive: true, force: true });
  }
  await observer.close();
  await broker.stop();
  await rm(work, { recursive: true, force: true });
}
