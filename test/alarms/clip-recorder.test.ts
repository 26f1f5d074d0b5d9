import { describe, expect, it } from 'vitest';
import { ClipRecorder } from '../../src/alarms/clip.js';
import { StreamHub } from '../../src/media/hub.js';
import type { VideoAccessUnit } from '../../src/media/types.js';
import { frameNumber, numberedFrame, SPS_1080P } from '../helpers/numbered-frames.js';

const FPS = 25;
/** A keyframe every second. */
const SHAPE = { fps: FPS, gop: FPS, keyframeBytes: 2000, frameBytes: 300 };
const frame = (n: number, ptsBase = 0) => numberedFrame(n, { ...SHAPE, ptsBase });
const numberOf = frameNumber;
const seconds = (s: number) => s * FPS;

function feed(hub: StreamHub, from: number, to: number, ptsBase = 0): void {
  for (let n = from; n < to; n++) hub.pushVideo(frame(n, ptsBase));
}

/** A main hub with a clip recorder attached, as the alarm service has them with alarm pictures on. */
function attached(preRollSeconds: number, maxSeconds: number) {
  const hub = new StreamHub('main');
  const clips = new ClipRecorder(hub, { preRollSeconds, maxSeconds });
  clips.attach();
  return { hub, clips };
}

describe('an alarm clip is what the hub kept: pre-roll, then the alarm', () => {
  it('starts at the keyframe at or before the pre-roll and ends with the newest frame', () => {
    const { hub, clips } = attached(3, 30);
    feed(hub, 0, seconds(8) + 10);
    clips.begin();
    expect(clips.recording).toBe(true);
    // The alarm lasts 12 s: far longer than the two GOPs the hub keeps for viewers.
    feed(hub, seconds(8) + 10, seconds(20) + 5);
    const units = clips.finish();
    expect(clips.recording).toBe(false);
    // 8.4 s - 3 s = 5.4 s: the keyframe at 5 s; every frame from there to the newest, once, in order.
    expect(units.map(numberOf)).toEqual(
      Array.from({ length: seconds(20) + 5 - seconds(5) }, (_, i) => seconds(5) + i),
    );
    expect(units[0]?.keyframe).toBe(true);
    // The clip is a copy: the hub's buffer goes on being reused.
    expect(units[0]?.nalus[0]?.equals(SPS_1080P)).toBe(true);
  });

  it('keeps at most pre-roll plus maxSeconds (whole GOPs) of a long alarm, and only the pre-roll after it', () => {
    const { hub, clips } = attached(2, 3);
    feed(hub, 0, seconds(5));
    clips.begin();
    feed(hub, seconds(5), seconds(30) + 12);
    const units = clips.finish();
    // 30.5 s - 5 s = 25.5 s: from the keyframe at 25 s.
    expect(numberOf(units[0] as VideoAccessUnit)).toBe(seconds(25));
    expect(numberOf(units.at(-1) as VideoAccessUnit)).toBe(seconds(30) + 11);
    // After the alarm the hub keeps the pre-roll only: a new clip starts within 2 s plus one GOP.
    feed(hub, seconds(30) + 12, seconds(40));
    clips.begin();
    const next = clips.finish();
    expect(numberOf(next[0] as VideoAccessUnit)).toBe(seconds(37));
  });

  it('gives the frames since a restart when the source started again mid-alarm (time went back)', () => {
    const { hub, clips } = attached(2, 30);
    feed(hub, 0, seconds(10));
    clips.begin();
    hub.reset();
    feed(hub, 0, seconds(3));
    const units = clips.finish();
    expect(units.map(numberOf)).toEqual(Array.from({ length: seconds(3) }, (_, i) => i));
  });

  it('keeps nothing extra once cancelled or detached', () => {
    const { hub, clips } = attached(4, 30);
    feed(hub, 0, seconds(6));
    clips.begin();
    clips.cancel();
    expect(clips.finish()).toEqual([]);
    clips.detach();
    feed(hub, seconds(6), seconds(12) + 1);
    // Without the clip's claim the hub keeps two GOPs for viewers: from 11 s.
    expect(numberOf(hub.recent(60).video[0] as VideoAccessUnit)).toBe(seconds(11));
  });
});
