import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { AgentEvents } from '../app/events.js';
import type { CommandRouter } from '../cloud/commands.js';
import type { EventPublisher } from '../cloud/events.js';
import type { EventBus } from '../core/bus.js';
import { AgentError } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { IrCut } from '../hardware/ir-cut.js';
import type { AnalysisFrame } from '../media/capture.js';
import type { StreamHub } from '../media/hub.js';
import type { Snapshot, SnapshotOptions } from '../media/snapshot.js';
import type { Settings } from '../settings/schema.js';
import { MediaStore } from '../storage/media-store.js';
import type { AlarmsConfig } from './config.js';
import { NightVision } from './night-vision.js';
import { AlarmService, type PirSource } from './service.js';
import { UploadQueue } from './uploads.js';

export interface AlarmsWiring {
  config: AlarmsConfig;
  dataDir: string;
  ffmpegPath: string;
  /** media.snapshot: the standby decoder on or off, or the SoC's JPEG command. */
  snapshot?: SnapshotOptions | undefined;
  /** The main stream's hub; undefined when the camera has no capture. */
  hub: StreamHub | undefined;
  /** Snapshots from this hub instead (the sub stream's, media.snapshot.stream). */
  snapshotHub?: StreamHub | undefined;
  events: EventPublisher;
  commands: CommandRouter;
  settings: () => Settings;
  /**
   * Whether an owner has set the camera up. Out of the box (never set up, or after a reset) the
   * camera raises no alarm and keeps no picture: its frames serve only the setup QR reader.
   */
  setUp: () => boolean;
  irCut: IrCut | undefined;
  pir: PirSource | undefined;
  bus: EventBus<AgentEvents>;
  log: Logger;
}

export interface Alarms {
  /** Fed every analysis frame; drops them while the camera is not set up. */
  analyse: (frame: AnalysisFrame) => void;
  modules: Module[];
  /**
   * A JPEG now, neither stored nor uploaded (Home Assistant's interval snapshots); undefined on a
   * camera without a stream. Refused while not set up or in privacy mode.
   */
  takePicture: (() => Promise<Buffer>) | undefined;
  /** The newest picture as a JPEG, not stored (ONVIF's snapshot URL); undefined without a camera stream. */
  picture: (() => Promise<Snapshot>) | undefined;
}

/** Motion and PIR alarms with their pictures, clips and uploads, night vision, and the `snapshot` command. */
export function createAlarms(w: AlarmsWiring): Alarms {
  const { config, log } = w;
  const nightVision = w.irCut
    ? new NightVision({ irCut: w.irCut, nightMode: () => w.settings().nightMode, bus: w.bus, log })
    : undefined;
  const store = new MediaStore({ dir: join(w.dataDir, 'media'), ...config.store, log });
  let uploadCa: Buffer | undefined;
  const uploadCaFile: Module = {
    name: 'upload-ca',
    start: async () => {
      if (config.uploadCaFile) uploadCa = await readFile(config.uploadCaFile);
    },
    stop: async () => {},
  };
  const uploads = new UploadQueue({
    path: join(w.dataDir, 'uploads.json'),
    store,
    uploadUrl: () => w.settings().uploadUrl,
    ca: () => uploadCa,
    attempts: config.uploadAttempts,
    log,
  });
  const alarms =
    w.hub && config.enabled
      ? new AlarmService({
          hub: w.hub,
          snapshotHub: w.snapshotHub,
          ffmpegPath: w.ffmpegPath,
          snapshot: w.snapshot,
          events: w.events,
          store,
          uploads,
          settings: w.settings,
          bus: w.bus,
          log,
          clip: config.clip,
          onNight: (transition) => nightVision?.follow(transition),
          pir: w.pir && onlyWhen(w.pir, w.setUp),
          pirConfig: config.pir,
        })
      : undefined;
  w.commands.register<Record<string, never>>('snapshot', {
    params: Type.Object({}, { additionalProperties: false }),
    run: async () => {
      if (w.settings().privacyMode) throw new AgentError('privacy_mode', 'the camera is in privacy mode');
      if (!alarms) throw new AgentError('not_connected', 'this device has no camera stream');
      if (!w.setUp()) throw new AgentError('not_set_up', 'the camera is waiting to be set up');
      return { result: await alarms.snapshotNow() };
    },
  });
  const modules: Module[] = [uploadCaFile];
  if (nightVision) modules.push(nightVision);
  if (alarms) modules.push(alarms);
  return {
    analyse: (frame) => {
      if (w.setUp()) alarms?.analyse(frame);
    },
    modules,
    takePicture: alarms
      ? async () => {
          if (w.settings().privacyMode) throw new AgentError('privacy_mode', 'the camera is in privacy mode');
          if (!w.setUp()) throw new AgentError('not_set_up', 'the camera is waiting to be set up');
          return (await alarms.picture()).jpeg;
        }
      : undefined,
    picture: alarms ? () => alarms.picture() : undefined,
  };
}

/** The PIR as alarms see it: quiet (inactive, no edges) while `active()` is false. */
function onlyWhen(pir: PirSource, active: () => boolean): PirSource {
  type Listener = (at: number) => void;
  const wrapped = { motion: new Map<Listener, Listener>(), clear: new Map<Listener, Listener>() };
  return {
    get active() {
      return active() && pir.active;
    },
    on(event, listener) {
      const gated = (at: number) => {
        if (active()) listener(at);
      };
      wrapped[event].set(listener, gated);
      return pir.on(event, gated);
    },
    off(event, listener) {
      const gated = wrapped[event].get(listener);
      wrapped[event].delete(listener);
      if (gated) pir.off(event, gated);
      return undefined;
    },
  };
}
