import type { Blob } from './blobs.js';
import type { Grid } from './grid.js';

/**
 * How sharply a blob ends: the mean change (frame against background) of its outline cells over that of
 * its inner cells. An object has an edge: its outline changed about as much as its inside (0.7-0.9 on the
 * night clips of the bench). A beam of light fades out: its outline is where the fading change just
 * crosses the threshold, a fraction of its middle's (0.2-0.35 for headlights sweeping a wall at night).
 * Only the blob's own cells count (`kept` within its box); the picture's border is no outline. NaN when
 * the blob has no inner cells.
 */
export function edgeShare(
  blob: Blob,
  kept: Uint8Array,
  cur: Float32Array,
  ref: Float32Array,
  grid: Grid,
): number {
  const { width: gw, height: gh } = grid;
  let outline = 0;
  let outlineCells = 0;
  let inner = 0;
  let innerCells = 0;
  for (let y = blob.y0; y <= blob.y1; y += 1) {
    for (let x = blob.x0, i = y * gw + blob.x0; x <= blob.x1; x += 1, i += 1) {
      if (kept[i] !== 1) continue;
      const c = cur[i] as number;
      const b = ref[i] as number;
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
  if (innerCells === 0 || outlineCells === 0 || inner <= 0) return Number.NaN;
  return outline / outlineCells / (inner / innerCells);
}
