import type { SegmentEntry } from './segment-writer.js';

export interface RetentionPolicy {
  maxAgeMs: number;
  /** Event segments' own maximum age (longer when events are kept longer). */
  eventMaxAgeMs: number;
  /** Under size pressure, continuous segments go before any event segment. */
  eventsLast: boolean;
  /** Recordings may use at most this many bytes. */
  capBytes: number;
}

/**
 * Which segments to remove, oldest first: those past their maximum age, then as many as it takes
 * to bring the recordings under the cap and to free `mustFree` bytes (the card's reserve). Pure.
 */
export function chooseForRemoval(
  segments: readonly SegmentEntry[],
  policy: RetentionPolicy,
  now: number,
  mustFree: number,
): SegmentEntry[] {
  const sorted = [...segments].sort((a, b) => a.start - b.start);
  const out = new Set<SegmentEntry>();
  for (const s of sorted) {
    const limit = s.kind === 'event' ? policy.eventMaxAgeMs : policy.maxAgeMs;
    if (s.end < now - limit) out.add(s);
  }
  let total = sorted.reduce((sum, s) => (out.has(s) ? sum : sum + s.bytes), 0);
  let freed = [...out].reduce((sum, s) => sum + s.bytes, 0);
  const need = () => total > policy.capBytes || freed < mustFree;
  const passes = policy.eventsLast
    ? [(s: SegmentEntry) => s.kind === 'continuous', () => true]
    : [() => true];
  for (const eligible of passes) {
    for (const s of sorted) {
      if (!need()) return [...out];
      if (out.has(s) || !eligible(s)) continue;
      out.add(s);
      total -= s.bytes;
      freed += s.bytes;
    }
  }
  return [...out];
}
