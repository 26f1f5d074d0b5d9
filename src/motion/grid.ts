/**
 * The two spatial kernels of the detector, on a grid of cells: averaging pixels into cells, and a 3x3
 * majority vote that turns scattered changed cells into blobs. Plain loops over typed arrays, no
 * allocation per call.
 */
export interface Grid {
  /** Pixels per cell side. */
  bin: number;
  /** Cells per row and per column. */
  width: number;
  height: number;
}

/** Cells of about this many across: halves the noise and quarters the work at 320x180. */
const GRID_WIDTH = 160;

export function gridFor(width: number, height: number): Grid {
  const bin = Math.max(1, Math.round(width / GRID_WIDTH));
  return { bin, width: Math.max(1, Math.floor(width / bin)), height: Math.max(1, Math.floor(height / bin)) };
}

/** Box-averages `bin x bin` pixels into each cell of `out`; returns the mean luma. */
export function binFrame(data: Uint8Array, frameWidth: number, grid: Grid, out: Float32Array): number {
  const { bin, width: gw, height: gh } = grid;
  const scale = 1 / (bin * bin);
  let total = 0;
  let i = 0;
  if (bin === 2) {
    // The default 320x180 case, unrolled: about a third of the frame time otherwise.
    for (let gy = 0; gy < gh; gy += 1) {
      let p = gy * 2 * frameWidth;
      let q = p + frameWidth;
      for (let gx = 0; gx < gw; gx += 1, p += 2, q += 2) {
        const sum =
          (data[p] as number) + (data[p + 1] as number) + (data[q] as number) + (data[q + 1] as number);
        out[i] = sum * 0.25;
        total += sum;
        i += 1;
      }
    }
  } else {
    for (let gy = 0; gy < gh; gy += 1) {
      const top = gy * bin * frameWidth;
      for (let gx = 0; gx < gw; gx += 1) {
        let sum = 0;
        let p = top + gx * bin;
        for (let dy = 0; dy < bin; dy += 1, p += frameWidth) {
          for (let dx = 0; dx < bin; dx += 1) sum += data[p + dx] as number;
        }
        out[i] = sum * scale;
        total += sum;
        i += 1;
      }
    }
  }
  return (total * scale) / (gw * gh);
}

export interface Blobs {
  count: number;
  /** Inclusive cell bounds; x1 < x0 when nothing survived. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Keeps a changed cell where at least 5 of its 9 neighbourhood cells changed (itself included): removes
 * salt-and-pepper noise and fills pinholes in objects. `rows` is scratch of the same size. Counts and
 * bounds what survives inside `mask`, and marks it in `kept` (1, else 0) when given.
 */
export function majority(
  changed: Uint8Array,
  mask: Uint8Array,
  grid: Grid,
  rows: Uint8Array,
  out: Blobs,
  kept?: Uint8Array,
): Blobs {
  const { width: gw, height: gh } = grid;
  // Horizontal 3-sums, then vertical sums of those: neighbourhood counts in two passes.
  for (let y = 0; y < gh; y += 1) {
    const o = y * gw;
    let left = 0;
    let mid = changed[o] as number;
    for (let x = 0; x < gw; x += 1) {
      const right = x + 1 < gw ? (changed[o + x + 1] as number) : 0;
      rows[o + x] = left + mid + right;
      left = mid;
      mid = right;
    }
  }
  let count = 0;
  let x0 = gw;
  let y0 = gh;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < gh; y += 1) {
    const o = y * gw;
    const up = y > 0 ? o - gw : -1;
    const down = y + 1 < gh ? o + gw : -1;
    for (let x = 0; x < gw; x += 1) {
      let votes = rows[o + x] as number;
      if (up >= 0) votes += rows[up + x] as number;
      if (down >= 0) votes += rows[down + x] as number;
      if (votes < 5 || mask[o + x] === 0) {
        if (kept) kept[o + x] = 0;
        continue;
      }
      if (kept) kept[o + x] = 1;
      count += 1;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  out.count = count;
  out.x0 = x0;
  out.y0 = y0;
  out.x1 = x1;
  out.y1 = y1;
  return out;
}
