import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runDaemon } from '../app/daemon.js';
import { loadConfigFile, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { HardwareTwin, type SimBoard } from '../console/hardware-twin.js';
import { ConsoleServer } from '../console/server.js';
import { writeJsonAtomic } from '../core/atomic-file.js';
import { ensureSimReleaseKey, trustedEntry } from '../ota/release.js';
import { BindTokens } from '../sim/bind-tokens.js';
import { type EmbeddedBroker, isListening, startEmbeddedBroker } from '../sim/broker.js';
import { SimCloud } from '../sim/cloud.js';
import { ensureSimIdentity } from '../sim/identity.js';
import { ensureSimKey, SIM_CLOUD_KEY } from '../sim/keys.js';
import { MediaStore } from '../storage/media-store.js';
import { FileSpeaker } from '../webrtc/speaker.js';
import { makeLogger, packageVersion, stopSignal } from './common.js';

export interface SimOptions {
  dataDir: string;
  configPath?: string | undefined;
  brokerPort?: number | undefined;
  wsPort?: number | undefined;
  rtspPort?: number | undefined;
  consolePort?: number | undefined;
  /** The SoftAP provisioning server (on localhost: the simulator has no access point). */
  softapPort?: number | undefined;
  /** Show this file (looped, in real time) instead of the test pattern. */
  video?: string | undefined;
  /** Start out of the box: no setup yet, waiting for a QR code or the app. */
  unprovisioned?: boolean | undefined;
}

const HOST = '127.0.0.1';
const SIM_SOFTAP_PORT = 8081;

/** The simulated board: a reset button, a status LED, IR-cut with IR LEDs and a PIR on sim GPIO lines. */
const simBoard: SimBoard = {
  button: { line: 17, activeLow: true },
  statusLed: { line: 18 },
  irCut: { filter: { line: 22 }, irLeds: { line: 23 } },
  pir: { line: 24 },
};

/**
 * A simulator is set up and bound to its own cloud unless asked to start out of the box; a
 * factory reset in the simulator removes the record, and it then waits for a setup like a camera.
 */
async function prepareProvisioning(dataDir: string, unprovisioned: boolean): Promise<void> {
  const path = join(dataDir, 'provisioning.json');
  if (unprovisioned) {
    await rm(path, { force: true });
  } else if (!existsSync(path)) {
    await mkdir(dataDir, { recursive: true });
    await writeJsonAtomic(path, {
      schemaVersion: 1,
      state: 'provisioned',
      bound: true,
      updatedAt: Date.now(),
    });
  }
}

/** `ipcam-agent sim`: the whole product on a laptop with nothing to configure. */
export async function simCommand(options: SimOptions): Promise<number> {
  const base = options.configPath ? await loadConfigFile(options.configPath) : parseConfig({});
  const dataDir = resolve(options.dataDir);
  const brokerPort = options.brokerPort ?? base.sim.brokerPort;
  const wsListenPort = options.wsPort ?? base.sim.wsPort;
  const { log, secrets } = makeLogger(base.log.level);
  const signal = stopSignal(log);

  let broker: EmbeddedBroker | undefined;
  let mqttPort = brokerPort;
  if (await isListening(HOST, brokerPort)) {
    log.info({ port: brokerPort }, 'a broker already listens; using it');
  } else {
    broker = await startEmbeddedBroker(HOST, brokerPort, wsListenPort);
    mqttPort = broker.mqttPort;
  }
  const { identity, path: identityFile } = await ensureSimIdentity(dataDir);
  const cloudKey = await ensureSimKey(dataDir, SIM_CLOUD_KEY);
  // The simulated camera trusts the key `ipcam-agent release` signs with by default.
  const releaseKey = trustedEntry(await ensureSimReleaseKey(dataDir));
  const config: Config = parseConfig({
    ...base,
    dataDir,
    device: { ...base.device, identityFile },
    cloud: { ...base.cloud, url: `mqtt://${HOST}:${mqttPort}` },
    media: options.video
      ? {
          ...base.media,
          source: { kind: 'file', path: resolve(options.video) },
          audio: { ...base.media.audio, source: 'source' },
        }
      : base.media,
    rtsp: { ...base.rtsp, host: HOST, port: options.rtspPort ?? base.rtsp.port },
    ota: { ...base.ota, trustedKeys: [...base.ota.trustedKeys, releaseKey] },
    // The simulator's radio, GPIO and speaker; SoftAP provisioning served on localhost, with no AP.
    wifi: { ...base.wifi, backend: 'sim' },
    hardware: { ...simBoard, ...base.hardware, backend: 'sim' },
    // The console's "PIR" button raises an alarm of its own.
    alarms: { ...base.alarms, pir: { ...base.alarms.pir, mode: 'trigger' } },
    provisioning: {
      ...base.provisioning,
      softap: {
        ...base.provisioning.softap,
        host: HOST,
        port: options.softapPort ?? SIM_SOFTAP_PORT,
        accessPoint: false,
      },
    },
    // The simulator is never under systemd.
    systemd: { notify: false },
  });

  await prepareProvisioning(dataDir, options.unprovisioned === true);
  const bindTokens = new BindTokens();
  const simCloud = SimCloud.start(`mqtt://${HOST}:${mqttPort}`, bindTokens, log);

  const wsPort = broker?.wsPort ?? base.sim.wsPort;
  const mediaReader = new MediaStore({ dir: join(dataDir, 'media'), ...base.alarms.store, log });
  const webConsole = new ConsoleServer({
    host: HOST,
    port: options.consolePort ?? base.sim.consolePort,
    deviceId: identity.serial,
    wsUrl: `ws://${HOST}:${wsPort}`,
    cloudKey: cloudKey.privateKey,
    media: (key) => mediaReader.get(key),
    issueBindToken: () => bindTokens.issue(),
    hardware: new HardwareTwin(join(dataDir, 'sim-gpio'), simBoard),
    log,
  });
  await webConsole.start();
  const lines = [
    'ipcam-agent simulator',
    `  device id      ${identity.serial}`,
    `  label code     ${identity.verificationCode}`,
    `  mqtt           mqtt://${HOST}:${mqttPort}${broker ? ' (embedded broker)' : ' (existing broker)'}`,
    ...(broker ? [`  mqtt over ws   ws://${HOST}:${broker.wsPort}`] : []),
    `  console        http://${HOST}:${webConsole.port}/`,
    `  data dir       ${dataDir}`,
    `  watch it       mosquitto_sub -h ${HOST} -p ${mqttPort} -V mqttv5 -t 'cam/v1/#' -v`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  try {
    return await runDaemon({
      config,
      identity,
      fwVersion: config.device.fwVersion ?? packageVersion(),
      log,
      secrets,
      capabilities: [],
      signal,
      extraCloudKeys: [cloudKey.publicKey],
      speaker: (log) => new FileSpeaker(join(dataDir, 'sim-speaker.ulaw'), log),
      rebootInProcess: true,
      onSoftApListening: (url) =>
        process.stdout.write(`  softap         ${url} (label code as the password)\n`),
      reboot: async () => {},
      onStarted: (agent) => {
        const port = agent.rtsp?.server?.port;
        if (port !== undefined) {
          process.stdout.write(`  rtsp           rtsp://${HOST}:${port}/main  rtsp://${HOST}:${port}/sub\n`);
        }
      },
    });
  } finally {
    await webConsole.stop();
    await simCloud.stop();
    await broker?.close();
  }
}
