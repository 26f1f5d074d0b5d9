import { parseCompactIso } from '../naming.js';

/**
 * A time as a playback URL gives it: ISO 8601 with a zone (`2026-12-06T01:00:00Z`, `+01:00`; a `+`
 * that a query turned into a space is taken back), or the card's compact form
 * (`20261206T010000.000Z`). Undefined for anything else. Pure.
 */
export function parsePlaybackTime(text: string | undefined | null): number | undefined {
  if (text === undefined || text === null || text.length > 40) return undefined;
  const compact = parseCompactIso(text);
  if (compact !== undefined) return compact;
  const iso = text.replace(/ /g, '+');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(iso)) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A range longer than this is refused (a client asks for a day or a week, not a year). */
export const MAX_PLAYBACK_RANGE_MS = 31 * 86_400_000;
