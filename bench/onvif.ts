// The local-network figures of issue 13, from the real simulator (`ipcam-agent sim`) against a real
// Mosquitto. Printed, nothing asserted:
//   1. WS-Discovery: time from a Probe sent to the ProbeMatches received (p50/p95), with the spec's
//      random 0-500 ms answer delay off (the camera's own work) and on (what an NVR waits).
//   2. Events: CreatePullPointSubscription's own time, then for the next motion alarm of the test
//      picture (an object crosses it every 30 s) the time from the subscription to the NVR's long-polled
//      PullMessages returning its first motion message, that message's delay after its UtcTime (whole
//      seconds), and how long after the same alarm's `evt/motion` reached the cloud's observer it came.
//   3. The daemon's RSS with ONVIF and the Home Assistant link on and off (media off: the node process
//      alone), idle and after an NVR's worth of requests.
//
//   node --import tsx bench/onvif.ts [--probes 200] [--only discovery|events|memory]
import { createSocket } from 'node:dgram';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { probeMessage } from '../src/onvif/discovery-messages.js';
import { simDataDir, startSim } from '../test/hardening/sim-process.js';
import type { DaemonProcess } from '../test/helpers/daemon.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { Observer } from '../test/helpers/observer.js';
import { DEVICE_NS, MEDIA_NS, postSoap, securityHeader, soapEnvelope } from '../test/helpers/onvif-soap.js';
import type { RtspCredentials } from '../test/helpers/rtsp-digest.js';

const { values: opts } = parseArgs({
  options: {
    probes: { type: 'string', default: '200' },
    only: { type: 'string', multiple: true },
  },
});
const PROBES = Number(opts.probes);
const wanted = (part: string) => !opts.only || opts.only.includes(part);
const TEV = 'http://www.onvif.org/ver10/events/wsdl';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const ms = (n: number) => `${n.toFixed(2).padStart(8)} ms`;

interface Sim {
  proc: DaemonProcess;
  serial: string;
  credentials: RtspCredentials;
  deviceUrl: string | undefined;
  discoveryPort: number | undefined;
}

/** A set-up simulator with these settings and config, ONVIF and discovery on free ports. */
async function sim(
  broker: Mosquitto,
  observer: Observer,
  options: { media: boolean; settings?: Record<string, unknown>; config?: Record<string, unknown> },
): Promise<Sim> {
  const dataDir = await simDataDir('bench-onvif', { media: options.media });
  const statePath = join(dataDir, 'state.json');
  const state = JSON.parse(await readFile(statePath, 'utf8')) as { settings: Record<string, unknown> };
  await writeFile(
    statePath,
    JSON.stringify({ ...state, settings: { ...state.settings, ...options.settings } }),
  );
  const configPath = join(dataDir, 'test-config.json');
  const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
  await writeFile(configPath, JSON.stringify({ ...config, ...options.config }));
  const port = Number(new URL(broker.url).port);
  const proc = startSim(dataDir, port, ['--onvif-port', '0', '--discovery-port', '0']);
  const serial = await proc.banner('device id', 30_000);
  const credentials = { username: 'admin', password: await proc.banner('label code') };
  // The first reported state comes once every module started; the banner's ONVIF line just before it.
  await observer.waitFor(
    (m) => m.topic === `cam/v1/${serial}/state/reported`,
    'first reported state',
    30_000,
  );
  await proc.stdout
    .waitFor((l) => l.trim().startsWith('onvif '), 'onvif banner', 2000)
    .catch(() => undefined);
  const onvifLine = proc.stdout.lines.find((l) => l.trim().startsWith('onvif '));
  const discoveryLine = proc.stdout.lines.find((l) => l.includes('"msg":"ws-discovery on"'));
  const discoveryPort = discoveryLine ? Number(/"port":(\d+)/.exec(discoveryLine)?.[1]) : undefined;
  return {
    proc,
    serial,
    credentials,
    deviceUrl: onvifLine?.trim().split(/\s+/)[1],
    discoveryPort,
  };
}

// ---------------------------------------------------------------------------------------------------
// 1. Probe -> ProbeMatches

async function probeTimes(port: number, count: number, gapMs: number): Promise<number[]> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const answered = new Promise<void>((resolve) => {
      const onMessage = (data: Buffer) => {
        if (!data.toString('utf8').includes(`RelatesTo>${id}<`)) return;
        socket.off('message', onMessage);
        resolve();
      };
      socket.on('message', onMessage);
    });
    const began = performance.now();
    socket.send(probeMessage(id), port, '127.0.0.1');
    await answered;
    times.push(performance.now() - began);
    if (gapMs > 0) await sleep(gapMs);
  }
  socket.close();
  return times;
}

async function discovery(broker: Mosquitto, observer: Observer): Promise<void> {
  console.log('\nWS-Discovery: unicast Probe to ProbeMatches received (the simulator on 127.0.0.1)');
  const fast = await sim(broker, observer, {
    media: false,
    config: {
      onvif: { discovery: { maxDelayMs: 0, answersPerSecond: 1000, answersPerSecondPerSender: 1000 } },
    },
  });
  const spec = await sim(broker, observer, { media: false });
  try {
    if (fast.discoveryPort === undefined || spec.discoveryPort === undefined) {
      console.log('  no `ws-discovery on` line: discovery is not in this build');
      return;
    }
    await probeTimes(fast.discoveryPort, 20, 0);
    const own = await probeTimes(fast.discoveryPort, PROBES, 0);
    console.log(
      `  no answer delay, ${PROBES} probes      p50 ${ms(percentile(own, 50))}  p95 ${ms(percentile(own, 95))}`,
    );
    // The default limit answers one address once a second after a burst of 5: probes 1.1 s apart.
    const n = Math.min(20, PROBES);
    const real = await probeTimes(spec.discoveryPort, n, 1100);
    console.log(
      `  spec delay 0-500 ms, ${String(n).padEnd(3)} probes  p50 ${ms(percentile(real, 50))}  p95 ${ms(percentile(real, 95))}`,
    );
  } finally {
    await fast.proc.kill();
    await spec.proc.kill();
  }
}

// ---------------------------------------------------------------------------------------------------
// 2. CreatePullPointSubscription -> first motion message

async function events(broker: Mosquitto, observer: Observer): Promise<void> {
  console.log('\nONVIF events: pull point on the simulator (test picture, motion analysis on)');
  const s = await sim(broker, observer, { media: true });
  try {
    if (!s.deviceUrl) {
      console.log('  no ONVIF server in this build');
      return;
    }
    const signed = (url: string, body: string) =>
      postSoap(url, soapEnvelope(body, securityHeader(s.credentials)));
    const began = performance.now();
    const created = await signed(
      new URL('/onvif/events_service', s.deviceUrl).href,
      `<CreatePullPointSubscription xmlns="${TEV}"><InitialTerminationTime>PT5M</InitialTerminationTime></CreatePullPointSubscription>`,
    );
    const createMs = performance.now() - began;
    const address = /<(?:\w+:)?Address>([^<]+)<\/(?:\w+:)?Address>/.exec(created.text)?.[1];
    if (created.status !== 200 || !address) {
      console.log(
        `  CreatePullPointSubscription: HTTP ${created.status}; the events service is not in this build`,
      );
      return;
    }
    console.log(`  CreatePullPointSubscription answered      ${ms(createMs)}`);
    const cloud = observer
      .next(
        (m) => m.topic === `cam/v1/${s.serial}/evt/motion` && m.json().phase === 'start',
        'evt/motion',
        90_000,
      )
      .then(
        () => ({ arrived: Date.now() }),
        () => undefined,
      );
    let firstMotion: { arrived: number; utc: number } | undefined;
    const deadline = Date.now() + 90_000;
    while (!firstMotion && Date.now() < deadline) {
      const reply = await signed(
        address,
        `<PullMessages xmlns="${TEV}"><Timeout>PT60S</Timeout><MessageLimit>10</MessageLimit></PullMessages>`,
      );
      const arrived = Date.now();
      for (const m of reply.text.matchAll(/<tt:Message\b([^>]*)>([\s\S]*?)<\/tt:Message>/g)) {
        const attrs = m[1] ?? '';
        if (!/PropertyOperation="Changed"/.test(attrs) || !/Name="State"\s+Value="true"/.test(m[2] ?? ''))
          continue;
        const utc = Date.parse(/UtcTime="([^"]+)"/.exec(attrs)?.[1] ?? '');
        firstMotion = { arrived, utc };
        break;
      }
    }
    const evt = await cloud;
    const createdAt = Date.now() - (performance.now() - began);
    if (!firstMotion) console.log('  no motion message within 90 s');
    else {
      console.log(
        `  subscription to first motion message      ${ms(firstMotion.arrived - createdAt)} (waits for the object to cross)`,
      );
      // UtcTime has whole seconds (xs:dateTime as ONVIF clients read it): up to 1 s early.
      console.log(`  alarm (UtcTime, whole s) to PullMessages  ${ms(firstMotion.arrived - firstMotion.utc)}`);
      if (evt)
        console.log(
          `  PullMessages returned after evt/motion    ${ms(firstMotion.arrived - evt.arrived)} (same alarm, cloud link on localhost)`,
        );
    }
  } finally {
    await s.proc.kill();
  }
}

// ---------------------------------------------------------------------------------------------------
// 3. RSS

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
}

/** The median of samples every 200 ms for `forMs`. */
async function sampleRss(pid: number, forMs: number): Promise<number> {
  const samples: number[] = [];
  const end = performance.now() + forMs;
  while (performance.now() < end) {
    samples.push(await rssKb(pid));
    await sleep(200);
  }
  return percentile(samples, 50) / 1024;
}

/** What an NVR does on adding a camera and then every few seconds: probe, read the device, the profiles. */
async function exercise(s: Sim): Promise<void> {
  if (s.discoveryPort !== undefined) await probeTimes(s.discoveryPort, 5, 0).catch(() => undefined);
  if (!s.deviceUrl) return;
  for (let i = 0; i < 50; i++) {
    await postSoap(
      s.deviceUrl,
      soapEnvelope(`<GetDeviceInformation xmlns="${DEVICE_NS}"/>`, securityHeader(s.credentials)),
    );
    await postSoap(
      new URL('/onvif/media_service', s.deviceUrl).href,
      soapEnvelope(`<GetProfiles xmlns="${MEDIA_NS}"/>`, securityHeader(s.credentials)),
    );
  }
}

async function memory(broker: Mosquitto, observer: Observer): Promise<void> {
  console.log('\nDaemon RSS (the simulator, media off; median of 200 ms samples over 5 s, after 5 s idle)');
  console.log('  ONVIF  Home Assistant     idle RSS   after 50 NVR rounds');
  const haBroker = `mqtt://127.0.0.1:${new URL(broker.url).port}`;
  for (const onvif of [false, true]) {
    for (const ha of [false, true]) {
      const s = await sim(broker, observer, {
        media: false,
        settings: {
          onvif: { enabled: onvif, discovery: onvif },
          homeAssistant: ha ? { enabled: true, broker: haBroker } : { enabled: false },
        },
      });
      try {
        const pid = s.proc.child.pid ?? 0;
        if (ha) await s.proc.waitForLog('home assistant', 15_000).catch(() => undefined);
        await sleep(5000);
        const idle = await sampleRss(pid, 5000);
        await exercise(s);
        const busy = await sampleRss(pid, 5000);
        const haUp = s.proc.stdout.lines.some((l) => /"module":"home-?assistant"/i.test(l));
        console.log(
          `  ${(onvif ? 'on' : 'off').padEnd(6)} ${(ha ? 'on' : 'off').padEnd(4)}${ha && !haUp ? ' (not in build)' : '               '.slice(0, 15)}  ${idle.toFixed(1).padStart(7)} MB  ${busy.toFixed(1).padStart(7)} MB`,
        );
      } finally {
        await s.proc.kill();
      }
    }
  }
}

const broker = await Mosquitto.start();
const observer = await Observer.connect(broker.url, ['cam/v1/+/evt/#', 'cam/v1/+/state/reported']);
try {
  if (wanted('discovery')) await discovery(broker, observer);
  if (wanted('events')) await events(broker, observer);
  if (wanted('memory')) await memory(broker, observer);
} finally {
  await observer.close();
  await broker.stop();
}
