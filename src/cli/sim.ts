import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type DaemonOptions, runDaemon } from '../app/daemon.js';
import { loadConfigFile, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { HardwareTwin, type SimBoard } from '../console/hardware-twin.js';
import { ConsoleServer } from '../console/server.js';
import { writeJsonAtomic } from '../core/atomic-file.js';
import { AgentError, errorMessage } from '../core/errors.js';
import type { LogFormat } from '../core/logger.js';
import { safeBroker } from '../homeassistant/link.js';
import { simHomeAssistantDefault } from '../homeassistant/sim-default.js';
import { fileInput, type MediaFileProbe, probeMediaFile } from '../media/probe.js';
import type { VideoCodec } from '../media/types.js';
import { ensureSimReleaseKey, trustedEntry } from '../ota/release.js';
import type { RecordingDownloads } from '../recording/playback/downloads.js';
import { BindTokens } from '../sim/bind-tokens.js';
import { type EmbeddedBroker, isListening, startEmbeddedBroker } from '../sim/broker.js';
import { SimCloud } from '../sim/cloud.js';
import { ensureSimIdentity } from '../sim/identity.js';
import { ensureSimKey, SIM_CLOUD_KEY } from '../sim/keys.js';
import { SIM_CARD_DIR } from '../storage/erase.js';
import { MediaStore } from '../storage/media-store.js';
import { FileSpeaker } from '../webrtc/speaker.js';
import { Banner } from './banner.js';
import { makeLogger, packageVersion, stopSignal } from './common.js';

export interface SimOptions {
  dataDir: string;
  configPath?: string | undefined;
  brokerPort?: number | undefined;
  wsPort?: number | undefined;
  rtspPort?: number | undefined;
  consolePort?: number | undefined;
  /** The ONVIF device service (default 8000). */
  onvifPort?: number | undefined;
  /** WS-Discovery's UDP port (default 3702, shared with other listeners; 0 picks a free one). */
  discoveryPort?: number | undefined;
  /** The SoftAP provisioning server (on localhost: the simulator has no access point). */
  softapPort?: number | undefined;
  /** Show this file (looped, in real time) instead of the test pattern. */
  video?: string | undefined;
  /** The file's H.264/H.265 stands for the camera's hardware encoder: served as it is (a `pipe` source). */
  passthrough?: boolean | undefined;
  /** Start out of the box: no setup yet, waiting for a QR code or the app. */
  unprovisioned?: boolean | undefined;
  /** The folder that stands for the SD card; default `<data dir>/sdcard` (made if missing). */
  storage?: string | undefined;
  /** Unset: readable on a terminal, JSON otherwise. */
  logFormat?: LogFormat | undefined;
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

/**
 * `--video`: the file is opened before anything starts, so one that cannot be read stops the
 * simulator with one line instead of an ffmpeg restarting forever.
 */
async function probeVideo(path: string, ffprobePath: string): Promise<MediaFileProbe> {
  try {
    return await probeMediaFile(path, ffprobePath);
  } catch (err) {
    throw new AgentError('media_unreadable', `--video ${errorMessage(err)}`, { cause: err });
  }
}

/** The sub stream an H.265 file gets: at most this wide, for WebRTC and analysis. */
const SIM_SUB_WIDTH = 640;

/**
 * `--passthrough`: the file's own H.264 or H.265, never re-encoded, through a `pipe` source fed by an
 * ffmpeg that only copies it (`-c:v copy`, Annex-B) in real time, looped.
 *
 * A camera's SoC gives a main and a sub stream. With an H.264 file, the sub stream is the same
 * picture from a second copying ffmpeg (a smaller one would mean encoding). With an H.265 file the
 * sub stream must be H.264 (WebRTC sends H.264 only), so it is made from the file by libx264 at most
 * 640 wide: it stands for the SoC's second encoder channel, which on such cameras gives H.264. The
 * main stream is still never re-encoded.
 */
export function passthroughSource(
  path: string,
  probe: MediaFileProbe,
  ffmpegPath: string,
): Config['media']['source'] {
  const codecs: Record<string, VideoCodec> = { h264: 'h264', hevc: 'h265' };
  const codec = codecs[probe.video.codec];
  if (!codec) {
    throw new AgentError(
      'media_unreadable',
      `--passthrough: ${path} has ${probe.video.codec} video; only H.264 and H.265 are passed through (drop --passthrough to re-encode it)`,
    );
  }
  const reader = [
    ffmpegPath,
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...['-re', '-stream_loop', '-1', '-i', fileInput(path)],
    '-map',
    `0:${probe.video.index}`,
  ];
  // The raw muxers add h264_mp4toannexb / hevc_mp4toannexb themselves; naming it with -bsf:v breaks
  // -stream_loop in ffmpeg 5.1 at the first loop ("A non-NULL packet sent after an EOF").
  const copy = [...reader, '-c:v', 'copy', '-f', codec === 'h265' ? 'hevc' : 'h264', '-'];
  // The file's frame rate times the stream; without it, the stream profile's fps in settings does.
  const fps = probe.video.fps ? { fps: probe.video.fps } : {};
  const main = { command: copy, codec, ...fps };
  if (codec === 'h264') return { kind: 'pipe', main, sub: main };
  const gop = String(Math.max(1, Math.round((probe.video.fps ?? 25) * 2)));
  const sub = [
    ...reader,
    ...['-vf', `scale='min(${SIM_SUB_WIDTH},iw)':-2`, '-pix_fmt', 'yuv420p'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
    ...['-b:v', '600k', '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-bf', '0'],
    ...['-x264-params', 'repeat-headers=1:aud=1', '-f', 'h264', '-'],
  ];
  return { kind: 'pipe', main, sub: { command: sub, codec: 'h264', ...fps } };
}

function passthroughLine(source: Extract<Config['media']['source'], { kind: 'pipe' }>): string {
  if (source.main.codec === 'h265')
    return '  passthrough    H.265 main served as it is (no re-encode, no audio); sub: H.264 by libx264 from the file, for WebRTC';
  return '  passthrough    H.264 served as it is (no re-encode, no audio; sub = main)';
}

function describeVideo(path: string, probe: MediaFileProbe): string {
  const { video, audio } = probe;
  const sound = audio ? `${audio.codec} audio` : 'no audio: silence';
  return `${path} (${video.codec} ${video.width}x${video.height}, ${sound}, ${probe.still ? 'a still picture' : 'looped'})`;
}

/** `ipcam-agent sim`: the whole product on a laptop with nothing to configure. */
export async function simCommand(options: SimOptions): Promise<number> {
  const base = options.configPath ? await loadConfigFile(options.configPath) : parseConfig({});
  const video = options.video ? resolve(options.video) : undefined;
  const videoProbe = video ? await probeVideo(video, base.media.ffprobePath) : undefined;
  if (options.passthrough && !video) {
    throw new AgentError('config_invalid', '--passthrough needs --video <file>');
  }
  const source =
    video && videoProbe
      ? options.passthrough
        ? passthroughSource(video, videoProbe, base.media.ffmpegPath)
        : ({ kind: 'file', path: video } as const)
      : undefined;
  const dataDir = resolve(options.dataDir);
  // A folder named with --storage is the card as it is (missing: the card is absent); the default
  // one is made, as a camera's card would be in its slot.
  const storage = options.storage ? resolve(options.storage) : join(dataDir, SIM_CARD_DIR);
  if (!options.storage) await mkdir(storage, { recursive: true });
  const brokerPort = options.brokerPort ?? base.sim.brokerPort;
  const wsListenPort = options.wsPort ?? base.sim.wsPort;
  const { log, secrets } = makeLogger(base.log.level, options.logFormat);
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
    // The file's own sound, or silence when it has none (the capture probes it again and decides).
    media: source
      ? {
          ...base.media,
          source,
          audio: { ...base.media.audio, source: 'source' },
        }
      : base.media,
    rtsp: { ...base.rtsp, host: HOST, port: options.rtspPort ?? base.rtsp.port },
    // The default port, when another simulator has it, gives way to a free one (printed in the banner).
    onvif: {
      ...base.onvif,
      host: HOST,
      port: options.onvifPort ?? base.sim.onvifPort,
      freePortIfTaken: options.onvifPort === undefined,
      discovery: { ...base.onvif.discovery, port: options.discoveryPort ?? base.onvif.discovery.port },
    },
    ota: { ...base.ota, trustedKeys: [...base.ota.trustedKeys, releaseKey] },
    // The simulator's radio, GPIO and speaker; SoftAP provisioning served on localhost, with no AP.
    wifi: { ...base.wifi, backend: 'sim' },
    hardware: { ...simBoard, ...base.hardware, backend: 'sim' },
    // A folder stands for the card: no mount point to require.
    recording: { ...base.recording, root: storage, requireMount: false },
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
  const homeAssistant = options.unprovisioned
    ? undefined
    : await simHomeAssistantDefault(dataDir, `mqtt://${HOST}:${mqttPort}`);
  const bindTokens = new BindTokens();
  const simCloud = SimCloud.start(`mqtt://${HOST}:${mqttPort}`, bindTokens, log);

  const mediaReader = new MediaStore({ dir: join(dataDir, 'media'), ...base.alarms.store, log });
  let downloads: RecordingDownloads | undefined;
  const webConsole = new ConsoleServer({
    host: HOST,
    port: options.consolePort ?? base.sim.consolePort,
    deviceId: identity.serial,
    broker: { host: HOST, port: mqttPort },
    cloudKey: cloudKey.privateKey,
    media: (key) => mediaReader.get(key),
    issueBindToken: () => bindTokens.issue(),
    hardware: new HardwareTwin(join(dataDir, 'sim-gpio'), simBoard),
    downloads: () => downloads,
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
    ...(video && videoProbe ? [`  video          ${describeVideo(video, videoProbe)}`] : []),
    ...(source?.kind === 'pipe' ? [passthroughLine(source)] : []),
    ...(homeAssistant
      ? [`  home assistant  ${safeBroker(homeAssistant.broker)} (discovery under ${homeAssistant.prefix}/)`]
      : []),
    `  data dir       ${dataDir}`,
    `  sd card        ${storage}`,
    `  watch it       mosquitto_sub -h ${HOST} -p ${mqttPort} -V mqttv5 -t 'cam/v1/#' -v`,
  ];
  const banner = new Banner(lines);

  try {
    const daemon: DaemonOptions = {
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
      onSoftApListening: (url) => banner.line(`  softap         ${url} (label code as the password)`),
      reboot: async () => {},
      onStarted: (agent) => {
        downloads = agent.downloads;
        const port = agent.rtsp?.server?.port;
        if (port !== undefined) {
          // Digest always (contract 5): user admin, password the label code printed above.
          const base = `rtsp://admin@${HOST}:${port}`;
          process.stdout.write(`  rtsp           ${base}/main  ${base}/sub (password: the label code)\n`);
        }
        const onvif = agent.onvif.module.port;
        if (onvif !== undefined) {
          const url = agent.onvif.xaddr('/onvif/device_service', HOST);
          process.stdout.write(`  onvif          ${url} (user admin, password: the label code)\n`);
        }
      },
    };
    return await runDaemon(banner.around(daemon));
  } finally {
    await webConsole.stop();
    await simCloud.stop();
    await broker?.close();
  }
}
