import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { NightVision } from '../alarms/night-vision.js';
import { AlarmService } from '../alarms/service.js';
import { UploadQueue } from '../alarms/uploads.js';
import { CommandRouter, type RecentRequests } from '../cloud/commands.js';
import { EventPublisher } from '../cloud/events.js';
import { CloudLink } from '../cloud/link.js';
import { Presence } from '../cloud/presence.js';
import { StateSync } from '../cloud/state-sync.js';
import { topicsFor } from '../cloud/topics.js';
import type { Config } from '../config/schema.js';
import { EventBus } from '../core/bus.js';
import { AgentError } from '../core/errors.js';
import { Lifecycle, type Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { SecretValues } from '../core/redact.js';
import { deviceIdOf, type Identity } from '../device/identity.js';
import { buildInfo } from '../device/info.js';
import { SystemClock } from '../hardware/clock.js';
import { createHardware, type Hardware } from '../hardware/create.js';
import { Capture } from '../media/capture.js';
import { StreamHub } from '../media/hub.js';
import { bootFirmware } from '../ota/firmware.js';
import { createOtaService } from '../ota/wiring.js';
import type { ProvisioningService } from '../provisioning/service.js';
import { createWifiBackend } from '../provisioning/wifi/factory.js';
import { createProvisioning } from '../provisioning/wiring.js';
import { RtspService } from '../rtsp/service.js';
import { ICE_CREDENTIALS_STORE } from '../settings/schema.js';
import { MediaStore } from '../storage/media-store.js';
import { SecretStore } from '../storage/secret-store.js';
import { loadStoreKey } from '../storage/store-key.js';
import { UsedTokens } from '../webrtc/replay.js';
import { WebrtcService } from '../webrtc/service.js';
import type { Speaker } from '../webrtc/speaker.js';
import { parsePublicKey } from '../webrtc/token.js';
import type { AgentEvents } from './events.js';
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
  capture: Capture | undefined;
  rtsp: RtspService | undefined;
  webrtc: WebrtcService | undefined;
  provisioning: ProvisioningService | undefined;
  hardware: Hardware;
  /** Removes the saved Wi-Fi networks: part of a factory reset and of unbinding. */
  forgetNetworks(): Promise<void>;
  /** Resolves when a command asks the daemon to reboot or reset. */
  exitRequested: Promise<ExitRequest>;
}

/** Composition root of one run: builds every capability from its config slice, in start order. */
export async function createAgent(ctx: AgentContext): Promise<Agent> {
  const { config, identity, log } = ctx;
  const deviceId = deviceIdOf(identity);
  const dataDir = config.dataDir;

  const key = await loadStoreKey({
    deviceSecretFile: config.device.secretFile,
    fallbackKeyFile: join(dataDir, 'store.key'),
    salt: identity.serial,
  });
  if (key.source === 'key-file')
    log.warn('no device secret configured; the secret store key is kept in a file');
  const store = new SecretStore(join(dataDir, 'secrets.enc'), key.key, ctx.secrets);
  await store.load();
  // With the A/B directory installer this is the bootloader step: it decides which slot runs.
  const firmware = await bootFirmware({ config: config.ota, dataDir, builtVersion: ctx.fwVersion, log });

  const bus = new EventBus<AgentEvents>(log.child({ module: 'bus' }));
  const topics = topicsFor(deviceId);
  const info = () =>
    buildInfo({
      identity,
      model: config.device.model,
      fwVersion: firmware.version,
      capabilities: ctx.capabilities,
      wifi: () => {
        const link = provisioning?.link;
        return { ssid: link?.ssid ?? null, rssi: link?.rssi ?? null };
      },
      activatedAt: () => provisioning?.state.activatedAt ?? null,
    });

  const link = new CloudLink({
    config: config.cloud,
    deviceId,
    topics,
    fwVersion: firmware.version,
    store,
    bus,
    log,
  });
  const state = new StateSync({
    link,
    topics,
    bus,
    store,
    statePath: join(dataDir, 'state.json'),
    maxPayloadBytes: config.cloud.maxPayloadBytes,
    log,
  });
  const events = new EventPublisher({
    link,
    topics,
    bus,
    outboxDir: join(dataDir, 'outbox'),
    maxEvents: config.cloud.outbox.maxEvents,
    log,
  });
  const presence = new Presence({ link, topics, bus, info, log });
  const commands = new CommandRouter({
    link,
    topics,
    maxPayloadBytes: config.cloud.maxPayloadBytes,
    log,
    recent: ctx.recentRequests,
  });

  let requestExit: (request: ExitRequest) => void = () => {};
  const exitRequested = new Promise<ExitRequest>((resolve) => {
    requestExit = resolve;
  });
  registerSystemCommands(commands, { info, requestExit });

  const hardware = await createHardware(config.hardware, { log, clock: new SystemClock(), dataDir });
  const nightVision = hardware.irCut
    ? new NightVision({ irCut: hardware.irCut, nightMode: () => state.settings.nightMode, bus, log })
    : undefined;
  const wifi = createWifiBackend(config.wifi, { log, runtimeDir: config.wifi.runtimeDir });
  const forgetNetworks = async () => {
    const current = await wifi.status().catch(() => undefined);
    if (current) await wifi.forget(current.ssid);
  };
  const provisioning = createProvisioning({
    config: config.provisioning,
    dataDir,
    identity,
    model: identity.model ?? config.device.model,
    fwVersion: () => firmware.version,
    wifi,
    link,
    topics,
    bus,
    events,
    hardware,
    secrets: ctx.secrets,
    onSoftApListening: ctx.onSoftApListening,
    log,
  });
  const factoryReset = (via: 'button' | 'unbind') => {
    log.warn({ via }, 'factory reset requested');
    // The owner hears it before the camera goes quiet; a speaker that hangs does not hold it up.
    const spoken = hardware.voice?.say('factory_reset') ?? Promise.resolve();
    void Promise.race([spoken, new Promise((resolve) => setTimeout(resolve, 5000))]).then(() =>
      requestExit({ kind: 'factory-reset' }),
    );
  };
  hardware.button?.on('short', () => void provisioning?.startSoftAp());
  hardware.button?.on('long', () => factoryReset('button'));
  commands.register<Record<string, never>>('unbind', {
    params: Type.Object({}, { additionalProperties: false }),
    run: async () => ({ result: { unbinding: true }, after: () => factoryReset('unbind') }),
  });

  const hubs = { main: new StreamHub('main'), sub: new StreamHub('sub') };
  const settings = () => state.settings;
  const mediaStore = new MediaStore({ dir: join(dataDir, 'media'), ...config.alarms.store, log });
  const uploadCa = config.alarms.uploadCaFile ? await readFile(config.alarms.uploadCaFile) : undefined;
  const uploads = new UploadQueue({
    path: join(dataDir, 'uploads.json'),
    store: mediaStore,
    uploadUrl: () => state.settings.uploadUrl,
    ca: () => uploadCa,
    attempts: config.alarms.uploadAttempts,
    log,
  });
  let alarms: AlarmService | undefined;
  const capture = config.media.enabled
    ? new Capture({
        config: config.media,
        hubs,
        settings,
        log,
        onAnalysisFrame: (frame) => {
          alarms?.analyse(frame);
          provisioning?.offerFrame(frame);
        },
        onCrash: (info) =>
          void events
            .raise('error', {
              code: 'capture_exited',
              exitCode: info.code,
              signal: info.signal,
              restartInMs: info.restartInMs,
            })
            .catch((err: unknown) => log.error({ err }, 'could not raise capture error event')),
      })
    : undefined;
  const rtsp = capture ? new RtspService({ config: config.rtsp, hubs, settings, store, log }) : undefined;
  alarms =
    capture && config.alarms.enabled
      ? new AlarmService({
          hub: hubs.main,
          ffmpegPath: config.media.ffmpegPath,
          events,
          store: mediaStore,
          uploads,
          settings,
          bus,
          log,
          clip: config.alarms.clip,
          onNight: (transition) => nightVision?.follow(transition),
          pir: hardware.pir,
          pirConfig: config.alarms.pir,
        })
      : undefined;
  commands.register<Record<string, never>>('snapshot', {
    params: Type.Object({}, { additionalProperties: false }),
    run: async () => {
      if (state.settings.privacyMode) throw new AgentError('privacy_mode', 'the camera is in privacy mode');
      if (!alarms) throw new AgentError('not_connected', 'this device has no camera stream');
      return { result: await alarms.snapshotNow() };
    },
  });
  const cloudKeys = [...config.webrtc.cloudKeys.map(parsePublicKey), ...(ctx.extraCloudKeys ?? [])];
  const webrtc =
    capture && config.webrtc.enabled
      ? new WebrtcService({
          config: config.webrtc,
          deviceId,
          link,
          topics,
          hub: hubs.main,
          cloudKeys: () => cloudKeys,
          iceServers: () => {
            const credentials = JSON.parse(store.get(ICE_CREDENTIALS_STORE) ?? '[]') as (string | null)[];
            const fromCloud = state.settings.iceServers.map((server, i) => {
              const credential = credentials[i];
              return typeof credential === 'string' ? { ...server, credential } : server;
            });
            return [...config.webrtc.iceServers, ...fromCloud];
          },
          usedTokens: new UsedTokens(join(dataDir, 'used-tokens.json')),
          speaker: ctx.speaker?.(log),
          settings,
          log,
        })
      : undefined;
  const ota = config.ota.enabled
    ? createOtaService({
        config: config.ota,
        dataDir,
        firmware,
        model: identity.model ?? config.device.model,
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
  const reactions: Module = {
    name: 'settings-reactions',
    start: async () =>
      bus.on(reactions, 'settings.changed', async ({ changed }) => {
        await webrtc?.apply(changed);
        await capture?.apply(changed);
        await rtsp?.apply(changed);
      }),
    stop: async () => bus.removeListeners(reactions),
  };

  // Listeners first, the connection last: whatever reacts to `cloud.connected` is ready when it fires.
  // Stopping runs backwards: offline is published first, then streams close, then capture stops.
  const hardwareModule: Module = {
    name: 'hardware',
    start: async () => {
      hardware.button?.start();
      hardware.pir?.start();
      if (!provisioning) hardware.statusLed?.set('online');
    },
    stop: () => hardware.close(),
  };
  const modules: Module[] = [hardwareModule, state, events, presence, commands, reactions];
  if (provisioning) modules.push(provisioning);
  if (nightVision) modules.push(nightVision);
  if (alarms) modules.push(alarms);
  if (capture) modules.push(capture);
  if (rtsp) modules.push(rtsp);
  if (webrtc) modules.push(webrtc);
  if (ota) modules.push(ota);
  if (config.cloud.enabled) modules.push(link);
  const lifecycle = new Lifecycle(modules, log.child({ module: 'lifecycle' }));
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
    webrtc,
    provisioning,
    hardware,
    forgetNetworks,
    exitRequested,
  };
}
