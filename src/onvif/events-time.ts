/**
 * The times a pull-point client sends: xs:duration (`PT60S`) and xs:dateTime (absolute), parsed
 * strictly. Anything else (hostile input included) is `undefined`, which the service turns into a
 * Sender fault. Protocol-pure: no I/O, no clock of its own.
 */

/** Longer than any value a client sends: a flood of digits is refused before any arithmetic. */
const MAX_TEXT = 64;

const DURATION =
  /^P(?:(\d{1,9})Y)?(?:(\d{1,9})M)?(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9})(?:\.(\d{1,9}))?S)?)?$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-](\d{2}):(\d{2}))?$/;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * An xs:duration in milliseconds (non-negative only: a negative one means nothing here). Years count
 * 365 days and months 30: only ever used for time-outs and lifetimes, which callers clamp anyway.
 */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (value.length > MAX_TEXT || value === 'P' || value.endsWith('T')) return undefined;
  const match = DURATION.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, frac] = match;
  const n = (part: string | undefined) => (part === undefined ? 0 : Number(part));
  const ms =
    n(y) * 365 * DAY +
    n(mo) * 30 * DAY +
    n(d) * DAY +
    n(h) * HOUR +
    n(mi) * MINUTE +
    n(s) * SECOND +
    (frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * SECOND));
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** An xs:dateTime in ms since the epoch; one without a zone is taken as UTC (as ONVIF devices keep time). */
export function parseDateTime(text: string): number | undefined {
  const value = text.trim();
  if (value.length > MAX_TEXT) return undefined;
  const match = DATE_TIME.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, frac, zone, zh, zm] = match.map((part) => part ?? '');
  const base = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  );
  const date = new Date(base);
  // Date.UTC rolls 2026-02-31 over into March: a date that does not round-trip does not exist.
  if (
    date.getUTCFullYear() !== Number(year) ||
    date.getUTCMonth() !== Number(month) - 1 ||
    date.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59 ||
    Number(zh || 0) > 23 ||
    Number(zm || 0) > 59
  ) {
    return undefined;
  }
  const offset =
    zone && zone !== 'Z' ? (zone.startsWith('-') ? -1 : 1) * (Number(zh) * HOUR + Number(zm) * MINUTE) : 0;
  return base - offset + (frac ? Math.floor(Number(`0.${frac}`) * SECOND) : 0);
}

/** A point in time as an NVR expects it: xs:dateTime in UTC without fractions. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A termination time given as a duration from now or as an absolute time: ms since the epoch, or
 * undefined when it is neither.
 */
export function parseTerminationTime(text: string, now: number): number | undefined {
  const value = text.trim();
  if (value.startsWith('P')) {
    const ms = parseDuration(value);
    return ms === undefined ? undefined : now + ms;
  }
  return parseDateTime(value);
}
