import { describe, expect, it } from 'vitest';
import { chooseForRemoval, type RetentionPolicy } from '../../src/recording/retention.js';
import type { SegmentEntry } from '../../src/recording/segment-writer.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 6);

function seg(i: number, kind: SegmentEntry['kind'] = 'continuous', ageDays = 0, bytes = 100): SegmentEntry {
  const start = NOW - ageDays * DAY + i * 60_000;
  return {
    path: `s${i}`,
    start,
    end: start + 60_000,
    stream: 'main',
    kind,
    codec: 'avc1',
    bytes,
    events: [],
  };
}

const policy: RetentionPolicy = {
  maxAgeMs: 30 * DAY,
  eventMaxAgeMs: 90 * DAY,
  eventsLast: true,
  capBytes: 1000,
};
const paths = (list: SegmentEntry[]) => list.map((s) => s.path).sort();

describe('retention policy', () => {
  it('removes nothing under the cap, the reserve kept and nothing too old', () => {
    expect(chooseForRemoval([seg(0), seg(1)], policy, NOW, 0)).toEqual([]);
  });

  it('removes continuous segments past maxAge and event segments only past their own age', () => {
    const old = seg(0, 'continuous', 31);
    const oldEvent = seg(1, 'event', 31);
    const ancientEvent = seg(2, 'event', 91);
    expect(paths(chooseForRemoval([old, oldEvent, ancientEvent, seg(3)], policy, NOW, 0))).toEqual([
      's0',
      's2',
    ]);
  });

  it('brings recordings under the cap oldest first, continuous before any event segment', () => {
    const list = [
      seg(0, 'event', 2),
      seg(1, 'continuous', 2),
      seg(2, 'event', 1),
      ...[3, 4, 5, 6, 7, 8, 9, 10].map((i) => seg(i)),
    ];
    // 11 segments of 100 bytes over a 1000-byte cap: one goes, the oldest continuous one.
    expect(paths(chooseForRemoval(list, policy, NOW, 0))).toEqual(['s1']);
    // Without keepEventsLonger: simply the oldest.
    expect(paths(chooseForRemoval(list, { ...policy, eventsLast: false }, NOW, 0))).toEqual(['s0']);
  });

  it('frees what the reserve needs, and takes event segments once no continuous one is left', () => {
    const list = [seg(0, 'event'), seg(1, 'event'), seg(2), seg(3)];
    expect(paths(chooseForRemoval(list, policy, NOW, 250))).toEqual(['s0', 's2', 's3']);
    expect(paths(chooseForRemoval(list, policy, NOW, 10_000))).toEqual(['s0', 's1', 's2', 's3']);
  });
});
