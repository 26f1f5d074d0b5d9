import { join } from 'node:path';
import type { PirAlarmConfig } from '../../src/alarms/config.js';
import { AlarmService, type AlarmServiceDeps } from '../../src/alarms/service.js';
import { UploadQueue } from '../../src/alarms/uploads.js';
import type { AgentEvents } from '../../src/app/events.js';
import { EventBus } from '../../src/core/bus.js';
import { NalType, nalType } from '../../src/media/h264.js';
import { StreamHub } from '../../src/media/hub.js';
import { defaultSettings } from '../../src/settings/apply.js';
import type { Settings } from '../../src/settings/schema.js';
import { MediaStore } from '../../src/storage/media-store.js';
import { captureLog } from '../core/fixtures.js';
import { startAgentInProcess } from '../helpers/agent.js';
import type { BrokerFixture } from '../helpers/broker-fixture.js';
import { demux, makeTs, tempDir, videoAccessUnits } from '../helpers/media-fixtures.js';
import type { Seen } from '../helpers/observer.js';
import { H, type Paint, render, scene, W } from '../motion/synthetic.js';

export const FRAME_MS = 200;
export const ROOM = scene(1);

/** A 40x40 dark square on the room, `step` frames into its crossing. */
export const square = (step: number) => ({ x: 20 + 20 * step, y: 60, w: 40, h: 40, level: 5 });

/**
 * An AlarmService in the test process, raising its events through a real in-process agent's
 * EventPublisher to a real Mosquitto, fed synthetic analysis frames on a clock the test moves.
 */
export async function alarmRig(
  fixture: BrokerFixture,
  options: {
    pir?: AlarmServiceDeps['pir'];
    pirConfig?: PirAlarmConfig;
    onNight?: AlarmServiceDeps['onNight'];
    hub?: StreamHub;
    settings?: Partial<Settings>;
  } = {},
) {
  const { agent, serial, dataDir } = await startAgentInProcess({ url: fixture.broker.url });
  const captured = captureLog();
  const { log } = captured;
  const base = defaultSettings();
  const settings: Settings = {
    ...base,
    alarmNotifications: false,
    motion: { ...base.motion, cooldownSeconds: 0 },
    ...options.settings,
  };
  const bus = new EventBus<AgentEvents>(log);
  const store = new MediaStore({
    dir: join(dataDir, 'rig-media'),
    quotaBytes: 64 * 1024 * 1024,
    maxAgeSeconds: 3600,
    freeSpaceFloorBytes: 0,
    log,
  });
  const uploads = new UploadQueue({
    path: join(dataDir, 'rig-uploads.json'),
    store,
    uploadUrl: () => undefined,
    ca: () => undefined,
    attempts: 1,
    log,
  });
  let now = 1_000_000;
  let seed = 0;
  const alarms = new AlarmService({
    hub: options.hub ?? new StreamHub('main'),
    ffmpegPath: 'ffmpeg',
    events: agent.events,
    store,
    uploads,
    settings: () => settings,
    bus,
    log,
    clip: { preRollSeconds: 0, maxSeconds: 5 },
    pir: options.pir,
    pirConfig: options.pirConfig,
    onNight: options.onNight,
    now: () => now,
  });
  await alarms.start();
  const topic = `cam/v1/${serial}/evt/motion`;
  const motion = (m: Seen) => m.topic === topic;
  /** One analysis frame of `base` (the room by default) at the current time; time moves on by 200 ms. */
  const frame = (paint: Paint = {}, base: Float32Array = ROOM): void => {
    seed += 1;
    alarms.analyse({ width: W, height: H, data: render(base, { noise: 2, seed, ...paint }), ts: now });
    now += FRAME_MS;
  };
  /** The same still scene for `count` frames. */
  const still = (count: number, paint: Paint = {}, base: Float32Array = ROOM): void => {
    for (let i = 0; i < count; i += 1) frame(paint, base);
  };
  /** A square crossing the scene for `steps` frames. */
  const crossing = (steps = 6, base: Float32Array = ROOM): void => {
    for (let i = 0; i < steps; i += 1) frame({ rects: [square(i)] }, base);
  };
  return {
    alarms,
    bus,
    /** Where the rig's store keeps pictures (`<mediaDir>/snapshots/<alarmId>.jpg`). */
    mediaDir: join(dataDir, 'rig-media'),
    settings,
    logs: captured,
    now: () => now,
    frame,
    still,
    crossing,
    /** Settings as the cloud would change them. */
    change(update: Partial<Settings>): void {
      Object.assign(settings, update);
      bus.emit('settings.changed', { settings, changed: Object.keys(update) });
    },
    /** Every `evt/motion` the cloud received from this camera, in order. */
    seen: () => fixture.observer.seen.filter(motion).map((m) => m.json<MotionEvent>()),
    next: (what: string, test: (e: MotionEvent) => boolean = () => true) =>
      fixture.observer
        .waitFor((m) => motion(m) && test(m.json<MotionEvent>()), what)
        .then((m) => m.json<MotionEvent>()),
    async close(): Promise<void> {
      await alarms.stop();
      await agent.lifecycle.stop();
    },
  };
}

export interface MotionEvent {
  phase: 'start' | 'snapshot' | 'end';
  /** start and end only. */
  source: 'video' | 'pir';
  alarmId: string;
  seq: number;
  /** When raised (the envelope's clock, Date.now()). */
  ts: number;
  motionTs: number;
  score: number;
  box: { x: number; y: number; w: number; h: number };
  notify?: boolean;
  picture?: boolean;
  durationMs?: number;
  snapshot?: { key: string; width: number; height: number; size: number };
}

/** The start and end phases of `seen`, as `phase:source`: the events themselves, not their pictures. */
export function phases(seen: MotionEvent[]): string[] {
  return seen.filter((e) => e.phase !== 'snapshot').map((e) => `${e.phase}:${e.source}`);
}

/** A main-stream hub holding one real GOP of 640x360 H.264, as capture would have filled it. */
export async function hubWithPicture(): Promise<StreamHub> {
  const dir = await tempDir();
  try {
    const ts = await makeTs(join(dir.path, 'gop.ts'), { size: '640x360', seconds: 1 });
    const hub = new StreamHub('main');
    for (const au of videoAccessUnits(demux(ts))) {
      const keyframe = au.nalus.some((n) => nalType(n) === NalType.IDR);
      hub.pushVideo({ kind: 'video', codec: 'h264', nalus: au.nalus, keyframe, pts: au.pts, at: Date.now() });
    }
    return hub;
  } finally {
    await dir.remove();
  }
}
