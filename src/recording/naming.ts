import { join } from 'node:path';

/**
 * The card's layout (contract section 6): `<root>/<deviceId>/<YYYY-MM-DD>/<HH>/<start>-<end>.mp4`,
 * UTC, compact ISO 8601 with milliseconds (`20261206T002755.120Z`), so consecutive segments name the
 * same instant where one ends and the next begins. A segment being written is `<start>-open.mp4`
 * and is renamed when it closes; one left open by a power cut is repaired and renamed at start.
 * Pure.
 */
export function compactIso(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

const COMPACT = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/;

export function parseCompactIso(text: string): number | undefined {
  const m = COMPACT.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se, ms3] = m.slice(1).map(Number) as number[];
  const ms = Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, se ?? 0, ms3 ?? 0);
  return Number.isFinite(ms) && compactIso(ms) === text ? ms : undefined;
}

export function hourDir(deviceDir: string, ms: number): string {
  const iso = new Date(ms).toISOString();
  return join(deviceDir, iso.slice(0, 10), iso.slice(11, 13));
}

export function openName(start: number): string {
  return `${compactIso(start)}-open.mp4`;
}

export function closedName(start: number, end: number): string {
  return `${compactIso(start)}-${compactIso(end)}.mp4`;
}

export type ParsedName = { start: number; end: number | 'open' };

/** A segment file name, or undefined for anything else (a PC's thumbnails, a temp file). */
export function parseName(name: string): ParsedName | undefined {
  const m = /^(\d{8}T\d{6}\.\d{3}Z)-(\d{8}T\d{6}\.\d{3}Z|open)\.mp4$/.exec(name);
  if (!m) return undefined;
  const [, first = '', second = ''] = m;
  const start = parseCompactIso(first);
  if (start === undefined) return undefined;
  if (second === 'open') return { start, end: 'open' };
  const end = parseCompactIso(second);
  return end !== undefined && end >= start ? { start, end } : undefined;
}

/**
 * A segment path relative to the device folder, as the layout writes it (`YYYY-MM-DD/HH/<name>.mp4`):
 * an index line read from the card names files that retention and `deleteRecordings` remove, so one
 * naming anything else (`../../secrets.enc`, an absolute path) is refused.
 */
export function isSegmentPath(path: string): boolean {
  const m = /^(\d{4}-\d{2}-\d{2})\/(\d{2})\/([^/]+)$/.exec(path);
  return m !== null && parseName(m[3] ?? '') !== undefined;
}
