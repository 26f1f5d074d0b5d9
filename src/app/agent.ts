import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { createAlarms } from '../alarms/wiring.js';
import type { RecentRequests } from '../cloud/commands.js';
import type { EventPublisher } from '../cloud/events.js';
import type { CloudLink } from '../cloud/link.js';
import type { StateSync } from '../cloud/state-sync.js';
import { topicsFor } from '../cloud/topics.js';
import { createCloud } from '../cloud/wiring.js';
import type { Config } from '../config/schema.js';
import { EventBus } from '../core/bus.js';
import { Lifecycle, type Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { SecretValues } from '../core/redact.js';
import { deviceIdOf, type Identity } from '../device/identity.js';
import { buildInfo } from '../device/info.js';
import { SystemClock } from '../hardware/clock.js';
import { createHardware, type Hardware } from '../hardware/create.js';
import { createHomeAssistant } from '../homeassistant/wiring.js';
import type { AnalysisFrame } from '../media/capture.js';
import type { StreamHub } from '../media/hub.js';
import { TalkFloor } from '../media/talk-floor.js';
import { createMedia, type MediaCapture, snapshotOptions } from '../media/wiring.js';
import { createOnvifDiscovery, discoveryScope } from '../onvif/discovery.js';
import { createOnvifEvents } from '../onvif/events.js';
import { createOnvif, type Onvif } from '../onvif/wiring.js';
import { FirmwareBoot } from '../ota/firmware.js';
import { createOtaService } from '../ota/wiring.js';
import type { ProvisioningService } from '../provisioning/service.js';
import { createWifiBackend } from '../provisioning/wifi/factory.js';
import { createProvisioning } from '../provisioning/wiring.js';
import { createRecordingDownloads, type RecordingDownloads } from '../recording/playback/downloads.js';
import type { RecordingService } from '../recording/service.js';
import { createRecording } from '../recording/wiring.js';
import type { RtspService } from '../rtsp/service.js';
import { createRtsp } from '../rtsp/wiring.js';
import { DamageReport } from '../storage/damage-report.js';
import { SecretStore } from '../storage/secret-store.js';
import { loadStoreKey } from '../storage/store-key.js';
import type { WebrtcService } from '../webrtc/service.js';
import type { Speaker } from '../webrtc/speaker.js';
import { parsePublicKey } from '../webrtc/token.js';
import { createWebrtc } from '../webrtc/wiring.js';
import type { AgentEvents } from './events.js';
import { createResetPolicy, registerResetCommands } from './reset-policy.js';
import { settingsReactions } from './settings-reactions.js';
import { type ExitRequest, registerSystemCommands } from './system-commands.js';

export interface AgentContext {
  config: Config;
  identity: Identity;
  fwVersion: string;
  log: Logger;
  secrets: SecretValues;
  capabilities: readonly string[];
  /** Survives in-process restarts so a redelivered request is not run again after a simulated reboot. */
  recentRequests: RecentRequests;
  /** Cloud keys trusted besides the configured ones (the simulator's own cloud). */
  extraCloudKeys?: readonly KeyObject[];
  /** The speaker for talk-back: ALSA on a camera, a file in the simulator. */
  speaker?: (log: Logger) => Speaker | undefined;
  /** Where the SoftAP provisioning server listens once up (the simulator prints it). */
  onSoftApListening?: (url: string) => void;
}

export interface Agent {
  deviceId: string;
  lifecycle: Lifecycle;
  link: CloudLink;
  events: EventPublisher;
  state: StateSync;
  store: SecretStore;
  hubs: { main: StreamHub; sub: StreamHub };
  capture: MediaCapture | undefined;
  rtsp: RtspService | undefined;
  /** HTTP download of recordings: mount `handle` on an HTTP server (the ONVIF one on a camera). */
  downloads: RecordingDownloads | undefined;
  onvif: Onvif;
  webrtc: WebrtcService | undefined;
  provisioning: ProvisioningService | undefined;
  hardware: Hardware;
  /** Removes the saved Wi-Fi networks: part of a factory reset and of unbinding. */
  forgetNetworks(): Promise<void>;
  /** Resolves when a command asks the daemon to reboot or reset. */
  exitRequested: Promise<ExitRequest>;
}

/**
 * The composition root of one run: each capability is built by its own wiring from its config slice,
 * registering its own commands and routes, and the list at the end is the start order. Building does
 * no I/O; every file, line, socket and process is opened in a module's `start()`, so a failure at
 * any point unwinds what came before it.
 */
export function createAgent(ctx: AgentContext): Agent {
  const { config, identity, log } = ctx;
  const deviceId = deviceIdOf(identity);
  const dataDir = config.dataDir;
  const model = identity.model ?? config.device.model;
  // The label code is the default RTSP and the SoftAP password: never in a log line.
  ctx.secrets.add(identity.verificationCode);
  const bus = new EventBus<AgentEvents>(log.child({ module: 'bus' }));
  const topics = topicsFor(deviceId);

  let requestExit: (request: ExitRequest) => void = () => {};
  const exitRequested = new Promise<ExitRequest>((resolve) => {
    requestExit = resolve;
  });

  const hardware = createHardware(config.hardware, { log, clock: new SystemClock(), dataDir });
  const store = new SecretStore(
    join(dataDir, 'secrets.enc'),
    () => storeKey(config, identity, log),
    ctx.secrets,
    log.child({ module: 'secrets' }),
  );
  const firmware = new FirmwareBoot({ config: config.ota, dataDir, builtVersion: ctx.fwVersion, log });
  const wifi = createWifiBackend(config.wifi, { log, runtimeDir: config.wifi.runtimeDir });
  let provisioning: ProvisioningService | undefined;
  let recording: RecordingService | undefined;
  const info = () =>
    buildInfo({
      identity,
      model: config.device.model,
      fwVersion: firmware.version,
      capabilities: ctx.capabilities,
      wifi: () => ({ ssid: provisioning?.link?.ssid ?? null, rssi: provisioning?.link?.rssi ?? null }),
      activatedAt: () => provisioning?.state.activatedAt ?? null,
      storage: () => recording?.info(),
      media: () => media.capture?.describe(),
    });
  const cloud = createCloud({
    config: config.cloud,
    dataDir,
    deviceId,
    topics,
    fwVersion: () => firmware.version,
    store,
    bus,
    info,
    recentRequests: ctx.recentRequests,
    log,
  });
  const { link, state, events, commands } = cloud;
  const settings = () => state.settings;
  registerSystemCommands(commands, { info, requestExit });
  const reset = createResetPolicy({
    voice: hardware.voice,
    requestExit: (request) => {
      recording?.resetRequested();
      homeAssistant?.resetRequested();
      requestExit(request);
    },
    log,
  });
  registerResetCommands(commands, reset);

  provisioning = createProvisioning({
    config: config.provisioning,
    dataDir,
    identity,
    model,
    fwVersion: () => firmware.version,
    wifi,
    link,
    topics,
    bus,
    events,
    hardware,
    secrets: ctx.secrets,
    credentialsLost: () => store.damaged,
    onSoftApListening: ctx.onSoftApListening,
    log,
  });
  const setUp = () => provisioning === undefined || provisioning.state.state === 'provisioned';
  hardware.button?.on('short', () => void provisioning?.startSoftAp());
  hardware.button?.on('long', () => reset('button'));

  let analyse: ((frame: AnalysisFrame) => void) | undefined;
  const media = createMedia({
    config: config.media,
    settings,
    onAnalysisFrame: (frame) => {
      analyse?.(frame);
      provisioning?.offerFrame(frame);
    },
    raiseError: (data) => events.raise('error', data),
    log,
  });
  const { hubs, capture } = media;
  const alarms = createAlarms({
    config: config.alarms,
    dataDir,
    ffmpegPath: config.media.ffmpegPath,
    snapshot: snapshotOptions(config.media),
    hub: capture ? hubs.main : undefined,
    snapshotHub: capture && snapshotOptions(config.media).stream === 'sub' ? hubs.sub : undefined,
    events,
    commands,
    settings,
    setUp,
    irCut: hardware.irCut,
    pir: hardware.pir,
    bus,
    log,
  });
  analyse = alarms.analyse;
  const hubsIfCapture = capture ? hubs : undefined;
  recording = createRecording({
    config: config.recording,
    deviceId,
    hubs: hubsIfCapture,
    settings,
    bus,
    events,
    commands,
    dataDir,
    cloudKeys: [...config.webrtc.cloudKeys.map(parsePublicKey), ...(ctx.extraCloudKeys ?? [])],
    log,
  });
  // One speaker, one talker at a time: WebRTC talk-back and the RTSP back channel share it.
  const talk = new TalkFloor(ctx.speaker?.(log), log);
  const rtsp = createRtsp(
    {
      config: config.rtsp,
      hubs,
      settings,
      store,
      verificationCode: identity.verificationCode,
      setUp,
      playback: () => (recording?.ready() ? recording.reader() : undefined),
      talk,
      log,
    },
    capture !== undefined,
  );
  const downloads =
    recording && rtsp
      ? createRecordingDownloads({
          reader: () => (recording?.ready() ? recording.reader() : undefined),
          credentials: () => rtsp.credentials(),
          store,
          log,
        })
      : undefined;
  const webrtc = createWebrtc(
    {
      config: config.webrtc,
      dataDir,
      deviceId,
      link,
      topics,
      hubs,
      store,
      settings,
      setUp,
      extraCloudKeys: ctx.extraCloudKeys ?? [],
      talk,
      log,
    },
    capture !== undefined,
  );
  // Pull-point motion events, served by the ONVIF server below (which gives it its URLs).
  const onvifEvents = createOnvifEvents({ bus, log, xaddr: (path, host) => onvif.xaddr(path, host) });
  const onvif: Onvif = createOnvif({
    config: config.onvif,
    identity: () => ({
      manufacturer: 'ipcam-agent',
      model,
      firmwareVersion: firmware.version,
      serialNumber: identity.serial,
      hardwareId: model,
    }),
    settings,
    setUp,
    store,
    verificationCode: identity.verificationCode,
    codec: (stream) => (hubs[stream].codec === 'h265' ? 'H265' : 'H264'),
    rtspPort: () => rtsp?.server?.port,
    picture: alarms.picture,
    applyLocal: (patch, source) => state.applyLocal(patch, source),
    reboot: () => requestExit({ kind: 'reboot' }),
    services: [onvifEvents],
    // The recordings download on the camera's HTTP port, next to the ONVIF device service.
    handlers: downloads ? [downloads.handle] : [],
    log,
  });
  // Discoverable while the ONVIF server serves (enabled, set up) and the owner leaves discovery on.
  const onvifDiscovery = createOnvifDiscovery({
    config: config.onvif.discovery,
    deviceId,
    active: () => settings().onvif.discovery,
    scopes: onvif.scopes,
    onvifPort: () => onvif.module.port,
    ...discoveryScope(config.onvif.host),
    advertisedHost: config.onvif.advertisedHost,
    log,
  });
  const ota = config.ota.enabled
    ? createOtaService({
        config: config.ota,
        dataDir,
        firmware,
        model,
        link,
        topics,
        bus,
        events,
        mainHub: capture ? hubs.main : undefined,
        privacyMode: () => state.settings.privacyMode,
        maxPayloadBytes: config.cloud.maxPayloadBytes,
        reboot: () => requestExit({ kind: 'reboot' }),
        log,
      })
    : undefined;
  const homeAssistant = createHomeAssistant({
    deviceId,
    model,
    mac: identity.mac,
    fwVersion: () => firmware.version,
    state,
    store,
    bus,
    info,
    offeredFirmware: () => ota?.offeredVersion,
    takePicture: alarms.takePicture,
    reboot: () => requestExit({ kind: 'reboot' }),
    reconnect: config.cloud.reconnect,
    log,
  });
  const reactions = settingsReactions(bus, [webrtc, capture, rtsp, onvif.module, onvifDiscovery]);
  const damage = new DamageReport({ dataDir, raise: (data) => events.raise('error', data), log });
  if (!provisioning) hardware.statusLed?.set('online');

  // The reset button first, so it works whatever fails after it; the store before anything that
  // reads a credential; the damage report after every module that loads a state file; the cloud
  // connection last, so whatever reacts to `cloud.connected` is ready.
  // Stopping runs backwards: offline is published first, then streams close, then capture stops.
  const modules: (Module | undefined)[] = [
    hardware,
    store,
    firmware,
    state,
    cloud.events,
    cloud.presence,
    commands,
    reactions,
    provisioning,
    ...alarms.modules,
    capture,
    recording,
    rtsp,
    onvifEvents,
    onvif.module,
    onvifDiscovery,
    webrtc,
    ota,
    homeAssistant,
    damage,
    config.cloud.enabled ? link : undefined,
  ];
  const lifecycle = new Lifecycle(
    modules.filter((m): m is Module => m !== undefined),
    log.child({ module: 'lifecycle' }),
  );
  return {
    deviceId,
    lifecycle,
    link,
    events,
    state,
    store,
    hubs,
    capture,
    rtsp,
    downloads,
    onvif,
    webrtc,
    provisioning,
    hardware,
    forgetNetworks: async () => {
      const current = await wifi.status().catch(() => undefined);
      if (current) await wifi.forget(current.ssid);
    },
    exitRequested,
  };
}

async function storeKey(config: Config, identity: Identity, log: Logger): Promise<Buffer> {
  const key = await loadStoreKey({
    deviceSecretFile: config.device.secretFile,
    fallbackKeyFile: join(config.dataDir, 'store.key'),
    salt: identity.serial,
  });
  if (key.source === 'key-file')
    log.warn('no device secret configured; the secret store key is kept in a file');
  return key.key;
}
