import { box } from './boxes.js';

/**
 * What a segment says about itself, so the index can be rebuilt from the card alone (a lost or
 * corrupt index, a card read on a PC and put back). It travels in top-level `free` boxes, which
 * every player skips: one after `moov` (written at open) and one at the end (written at close,
 * with the events the segment covers). A segment cut short by a power cut keeps the first.
 */
export interface SegmentMeta {
  stream: 'main' | 'sub';
  kind: 'continuous' | 'event';
  codec: string;
  /** Wall-clock start in ms (UTC). */
  start: number;
  events?: string[];
}

const MAGIC = 'ipcam-recording\0';

export function metaBox(meta: SegmentMeta): Buffer {
  return box('free', Buffer.from(MAGIC + JSON.stringify(meta), 'utf8'));
}

/** The metadata in a `free` box's payload, or undefined when it is not ours or not valid. */
export function parseMeta(payload: Buffer): SegmentMeta | undefined {
  const text = payload.toString('utf8');
  if (!text.startsWith(MAGIC)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(MAGIC.length));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.stream !== 'main' && v.stream !== 'sub') return undefined;
  if (v.kind !== 'continuous' && v.kind !== 'event') return undefined;
  if (typeof v.codec !== 'string' || v.codec.length > 64) return undefined;
  if (typeof v.start !== 'number' || !Number.isFinite(v.start)) return undefined;
  const events = Array.isArray(v.events)
    ? v.events.filter((e): e is string => typeof e === 'string' && e.length <= 64).slice(0, 256)
    : undefined;
  return { stream: v.stream, kind: v.kind, codec: v.codec, start: v.start, ...(events ? { events } : {}) };
}
