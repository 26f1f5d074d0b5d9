import type { Blob } from './blobs.js';
import type { Grid } from './grid.js';

export interface Outline {
  /**
   * How sharply the blob ends: the mean change (frame against background) of its outline cells over that
   * of its inner cells. An object has an edge: its outline changed about as much as its inside (0.73-1.1
   * on the night clips of the bench). A beam of light fades out: its outline is where the fading change
   * just crosses the threshold, a fraction of its middle's (0.32-0.66 for headlights sweeping a wall at
   * night, 0.47-0.54 for a lens flare's ghost by day). NaN when the blob has fewer than MIN_INNER inner
   * cells: a few cells' ratio is noise.
   */
  edge: number;
  /** Share of its cells brighter than the background: light added (a beam, a flare) brightens them all. */
  brighter: number;
}

const MIN_INNER = 4;

/**
 * The blob's outline against its inside, into `out` (no allocation per blob and frame). Only the blob's own cells count (`kept` within its box); the
 * picture's border is no outline.
 */
export function outlineOf(
  blob: Blob,
  kept: Uint8Array,
  cur: Float32Array,
  ref: Float32Array,
  grid: Grid,
  out: Outline = { edge: 0, brighter: 0 },
): Outline {
  const { width: gw, height: gh } = grid;
  let outline = 0;
  let outlineCells = 0;
  let inner = 0;
  let innerCells = 0;
  let brighter = 0;
  for (let y = blob.y0; y <= blob.y1; y += 1) {
    for (let x = blob.x0, i = y * gw + blob.x0; x <= blob.x1; x += 1, i += 1) {
      if (kept[i] !== 1) continue;
      const c = cur[i] as number;
      const b = ref[i] as number;
      if (c > b) brighter += 1;
      const d = c > b ? c - b : b - c;
      const edge =
        (x > 0 && kept[i - 1] !== 1) ||
        (x < gw - 1 && kept[i + 1] !== 1) ||
        (y > 0 && kept[i - gw] !== 1) ||
        (y < gh - 1 && kept[i + gw] !== 1);
      if (edge) {
        outline += d;
        outlineCells += 1;
      } else {
        inner += d;
        innerCells += 1;
      }
    }
  }
  const cells = outlineCells + innerCells;
  out.edge =
    innerCells < MIN_INNER || outlineCells === 0 || inner <= 0
      ? Number.NaN
      : outline / outlineCells / (inner / innerCells);
  out.brighter = cells > 0 ? brighter / cells : 0;
  return out;
}
