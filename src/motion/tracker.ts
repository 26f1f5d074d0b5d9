import type { Blob } from './blobs.js';

/**
 * Blobs associated across frames into tracks. A track counts as motion once it is object-sized (the
 * zone's minimum) and has travelled coherently: its centroid moved at least a share of its own size, in
 * a fairly straight line, over at least two frames. Sensor noise and rain make blobs that do not last
 * or are too small; foliage and flags make blobs that stay where they are and jitter. Cell units and
 * the frames' clock; no allocation per frame beyond new tracks.
 */
export type Side = 'left' | 'right' | 'top' | 'bottom' | 'inside';
export type Heading = 'left' | 'right' | 'up' | 'down' | 'none';

export interface Track {
  readonly id: number;
  /** When the track was first seen (frame clock, ms). */
  readonly since: number;
  /** Last frame it was matched in. */
  lastTs: number;
  /** Frames it was matched in. */
  hits: number;
  area: number;
  /** Current and birth boxes, inclusive cell bounds. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  readonly born: { x0: number; y0: number; x1: number; y1: number; cx: number; cy: number };
  cx: number;
  cy: number;
  /** Cells per ms, smoothed. */
  vx: number;
  vy: number;
  /** Length of the centroid's path, cells. */
  path: number;
  /** Has travelled coherently at least once: it stays a moving object while it is tracked. */
  moving: boolean;
  /** Matched in the latest frame and counted as motion there. */
  counted: boolean;
  /** Where and when its steady journey began (birth, or its last jump), and its path length then. */
  journey: { cx: number; cy: number; ts: number; path: number };
  /**
   * Cells its box moved as a whole, summed frame by frame (see `boxStep`): a blob that spreads, or
   * flickers in one place while its centroid wanders (swaying branch shadows, a tree), moves nowhere.
   */
  boxX: number;
  boxY: number;
}

/** Travel, in cells, no track needs to exceed to count (3 pixels at 320x180). */
const MIN_TRAVEL = 1.5;
/** ...and as a share of the blob's size (square root of its area): foliage jitters less than this. */
const TRAVEL_SHARE = 0.2;
/** Net travel over path length: below this the blob went back and forth (foliage, flags). */
const STRAIGHTNESS = 0.5;
/**
 * A faint blob (blobs.ts: light could explain it, in heavy noise) counts once its track has lasted this
 * long and travelled at least its own length along its way, in this straight a line:
 * a walker at night crosses its own width in a few tenths of a second; a shadow that sways, a flickering
 * light or a patch of noise does not get that far.
 */
const FAINT_MS = 400;
const FAINT_STRAIGHTNESS = 0.6;
/** A track not matched for this long is gone. */
const LOST_MS = 500;
/** A blob is looked for within this many of its sizes (box extent) around the prediction... */
const GATE_EXTENT = 2;
/** ...and at least this many cells. */
const GATE_MIN = 6;
export const MAX_TRACKS = 16;
/** Cells a box may stand off the grid's border and still touch it (entry side). */
const EDGE = 1;

export class Tracker {
  readonly #tracks: Track[] = [];
  #nextId = 1;
  #gridW = 0;
  #gridH = 0;

  get tracks(): readonly Track[] {
    return this.#tracks;
  }

  reset(): void {
    this.#tracks.length = 0;
  }

  /** Associates this frame's blobs (largest first) with the live tracks; returns whether any counts. */
  update(blobs: readonly Blob[], ts: number, gridW: number, gridH: number): boolean {
    this.#gridW = gridW;
    this.#gridH = gridH;
    const tracks = this.#tracks;
    for (let k = tracks.length - 1; k >= 0; k -= 1) {
      const t = tracks[k] as Track;
      t.counted = false;
      if (ts - t.lastTs > LOST_MS || ts < t.lastTs) tracks.splice(k, 1);
    }
    const taken = new Uint8Array(blobs.length);
    const pairs: { cost: number; t: number; b: number }[] = [];
    for (let t = 0; t < tracks.length; t += 1) {
      const track = tracks[t] as Track;
      const dt = ts - track.lastTs;
      const px = track.cx + track.vx * dt;
      const py = track.cy + track.vy * dt;
      for (let b = 0; b < blobs.length; b += 1) {
        const blob = blobs[b] as Blob;
        const extent = Math.max(
          track.x1 - track.x0 + 1,
          track.y1 - track.y0 + 1,
          blob.x1 - blob.x0 + 1,
          blob.y1 - blob.y0 + 1,
        );
        // Before a track has a speed its next place is anywhere nearby; after, the prediction narrows it.
        // The cost is the distance against the narrow gate for all: a wide gate must not make a track
        // born last frame (a speck of noise beside a walker) the better match for the walker's blob.
        const narrow = Math.max(GATE_MIN, (GATE_EXTENT / 2) * extent);
        const gate = track.hits > 1 ? narrow : Math.max(GATE_MIN, GATE_EXTENT * extent);
        const d = Math.hypot(blob.cx - px, blob.cy - py);
        if (d <= gate) pairs.push({ cost: d / narrow, t, b });
      }
    }
    pairs.sort((a, b) => a.cost - b.cost);
    const matched = new Uint8Array(tracks.length);
    for (const { t, b } of pairs) {
      if (matched[t] === 1 || taken[b] === 1) continue;
      matched[t] = 1;
      taken[b] = 1;
      this.#follow(tracks[t] as Track, blobs[b] as Blob, ts);
    }
    for (let b = 0; b < blobs.length && tracks.length < MAX_TRACKS; b += 1) {
      if (taken[b] === 0) tracks.push(this.#birth(blobs[b] as Blob, ts));
    }
    let any = false;
    for (const t of tracks) any ||= t.counted;
    return any;
  }

  #follow(track: Track, blob: Blob, ts: number): void {
    const dt = Math.max(1, ts - track.lastTs);
    const sx = blob.cx - track.cx;
    const sy = blob.cy - track.cy;
    const first = track.hits === 1;
    track.vx = first ? sx / dt : 0.5 * track.vx + (0.5 * sx) / dt;
    track.vy = first ? sy / dt : 0.5 * track.vy + (0.5 * sy) / dt;
    const step = Math.hypot(sx, sy);
    track.path += step;
    // A step longer than the blob itself along it is a jump to another blob (the other edge of a
    // swaying shadow, another piece of it), not travel: its box did not move, and the journey a faint
    // track is judged on starts again there.
    const jump = step > lengthAlong(blob, sx, sy);
    if (jump) track.journey = { cx: blob.cx, cy: blob.cy, ts, path: track.path };
    // Unless the blob is the same shape at its new place: a car crossing fast, seen at 5 fps.
    if (!jump || sameShape(track, blob)) {
      track.boxX += boxStep(track.x0, track.x1, blob.x0, blob.x1);
      track.boxY += boxStep(track.y0, track.y1, blob.y0, blob.y1);
    }
    track.cx = blob.cx;
    track.cy = blob.cy;
    track.x0 = blob.x0;
    track.y0 = blob.y0;
    track.x1 = blob.x1;
    track.y1 = blob.y1;
    track.area = blob.area;
    track.hits += 1;
    track.lastTs = ts;
    if (!track.moving) {
      const travel = Math.hypot(blob.cx - track.born.cx, blob.cy - track.born.cy);
      const enough = Math.max(MIN_TRAVEL, TRAVEL_SHARE * Math.sqrt(blob.area));
      // Born at the picture's border, an object comes in: its box grows before it moves.
      const wentSomewhere = this.#atBorder(track.born) || Math.hypot(track.boxX, track.boxY) >= enough;
      track.moving = travel >= enough && travel >= STRAIGHTNESS * track.path && wentSomewhere;
    }
    const far = !blob.faint || this.#faintWentFar(track, blob, ts);
    track.counted = track.moving && far && blob.area >= blob.need;
  }

  /**
   * A faint track has gone far once its journey has lasted FAINT_MS and covered the blob's own length
   * along its way and at least its size (the root of its area: a thin sliver at a swaying shadow's edge
   * is narrow along its way, yet goes no further than the sway), in a fairly straight line.
   */
  #faintWentFar(track: Track, blob: Blob, ts: number): boolean {
    const { journey } = track;
    if (ts - journey.ts < FAINT_MS) return false;
    const dx = blob.cx - journey.cx;
    const dy = blob.cy - journey.cy;
    const travel = Math.hypot(dx, dy);
    if (travel === 0 || travel < FAINT_STRAIGHTNESS * (track.path - journey.path)) return false;
    return travel >= Math.max(lengthAlong(blob, dx, dy), Math.sqrt(blob.area));
  }

  #atBorder(box: { x0: number; y0: number; x1: number; y1: number }): boolean {
    return (
      box.x0 <= EDGE || box.y0 <= EDGE || box.x1 >= this.#gridW - 1 - EDGE || box.y1 >= this.#gridH - 1 - EDGE
    );
  }

  #birth(blob: Blob, ts: number): Track {
    const { x0, y0, x1, y1, cx, cy } = blob;
    return {
      id: this.#nextId++,
      since: ts,
      lastTs: ts,
      hits: 1,
      area: blob.area,
      x0,
      y0,
      x1,
      y1,
      born: { x0, y0, x1, y1, cx, cy },
      cx,
      cy,
      vx: 0,
      vy: 0,
      path: 0,
      moving: false,
      counted: false,
      journey: { cx, cy, ts, path: 0 },
      boxX: 0,
      boxY: 0,
    };
  }

  /** Where a track came in: the border its first box touched, the one it moved away from if several. */
  entry(track: Track): Side {
    const { born } = track;
    const dx = track.cx - born.cx;
    const dy = track.cy - born.cy;
    const touched: [Side, number][] = [];
    // Each side with how much the motion points away from it.
    if (born.x0 <= EDGE) touched.push(['left', dx]);
    if (born.x1 >= this.#gridW - 1 - EDGE) touched.push(['right', -dx]);
    if (born.y0 <= EDGE) touched.push(['top', dy]);
    if (born.y1 >= this.#gridH - 1 - EDGE) touched.push(['bottom', -dy]);
    if (touched.length === 0) return 'inside';
    touched.sort((a, b) => b[1] - a[1]);
    return (touched[0] as [Side, number])[0];
  }
}

/** The dominant direction of a track's travel since it was born. */
export function heading(track: Track): Heading {
  const dx = track.cx - track.born.cx;
  const dy = track.cy - track.born.cy;
  if (Math.hypot(dx, dy) < MIN_TRAVEL) return 'none';
  if (Math.abs(dx) >= Math.abs(dy)) return dx > 0 ? 'right' : 'left';
  return dy > 0 ? 'down' : 'up';
}

/** A blob's extent along the direction (dx, dy): its width going sideways, its height going up or down. */
function lengthAlong(blob: Blob, dx: number, dy: number): number {
  const d = Math.hypot(dx, dy);
  if (d === 0) return 0;
  return (Math.abs(dx) * (blob.x1 - blob.x0 + 1) + Math.abs(dy) * (blob.y1 - blob.y0 + 1)) / d;
}

/** Cells a blob's box may differ in width or height, and share its area may differ, and be the same. */
const SHAPE_CELLS = 1;
const SHAPE_AREA = 0.25;

/** Whether a blob has the track's last box size and area: the same thing moved, not another piece. */
function sameShape(track: Track, blob: Blob): boolean {
  const w = Math.abs(blob.x1 - blob.x0 - (track.x1 - track.x0));
  const h = Math.abs(blob.y1 - blob.y0 - (track.y1 - track.y0));
  return w <= SHAPE_CELLS && h <= SHAPE_CELLS && Math.abs(blob.area - track.area) <= SHAPE_AREA * track.area;
}

/**
 * How far a box moved as a whole along one axis from sides a0..a1 to b0..b1: the lesser move of its two
 * sides when both went the same way, signed; 0 when it grew or shrank.
 */
function boxStep(a0: number, a1: number, b0: number, b1: number): number {
  const lo = b0 - a0;
  const hi = b1 - a1;
  if (lo > 0 && hi > 0) return Math.min(lo, hi);
  if (lo < 0 && hi < 0) return Math.max(lo, hi);
  return 0;
}
