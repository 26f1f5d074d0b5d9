import { join, resolve } from 'node:path';
import { runDaemon } from '../app/daemon.js';
import { loadConfigFile, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ConsoleServer } from '../console/server.js';
import { ensureSimReleaseKey, trustedEntry } from '../ota/release.js';
import { type EmbeddedBroker, isListening, startEmbeddedBroker } from '../sim/broker.js';
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
  /** Show this file (looped, in real time) instead of the test pattern. */
  video?: string | undefined;
}

const HOST = '127.0.0.1';

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
    // The simulator is never under systemd.
    systemd: { notify: false },
  });

  const wsPort = broker?.wsPort ?? base.sim.wsPort;
  const mediaReader = new MediaStore({ dir: join(dataDir, 'media'), ...base.alarms.store, log });
  const webConsole = new ConsoleServer({
    host: HOST,
    port: options.consolePort ?? base.sim.consolePort,
    deviceId: identity.serial,
    wsUrl: `ws://${HOST}:${wsPort}`,
    cloudKey: cloudKey.privateKey,
    media: (key) => mediaReader.get(key),
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
    await broker?.close();
  }
}
