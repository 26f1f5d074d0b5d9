import { fileURLToPath } from 'node:url';
import { loadAddon } from '../core/native-addon.js';

/**
 * The native copies of the detector's per-cell loops (kernels.c), each named after its TypeScript
 * original and giving the same results bit for bit. The detector uses them when the addon loads, so
 * that motion analysis costs the same under `--lite-mode` (no optimizing compiler) as compiled by V8;
 * else the TypeScript runs. Out-parameters are typed arrays the caller keeps.
 */
export interface MotionAddon {
  /** grid.ts `binFrame`; returns the mean luma. */
  binFrame(
    data: Uint8Array,
    frameWidth: number,
    bin: number,
    gw: number,
    gh: number,
    out: Float32Array,
  ): number;
  /** grid.ts `majority`; `out` gets count, x0, y0, x1, y1. */
  majority(
    changed: Uint8Array,
    mask: Uint8Array,
    gw: number,
    gh: number,
    rows: Uint8Array,
    kept: Uint8Array | null,
    out: Int32Array,
  ): void;
  /** shift.ts `ShiftEstimator#along` (regions up to 256 cells a side). */
  along(
    frame: Float32Array,
    background: Float32Array,
    gw: number,
    x0: number,
    y0: number,
    rw: number,
    rh: number,
    columns: boolean,
  ): number;
  /** shift.ts `shiftInto`. */
  shiftInto(
    background: Float32Array,
    gw: number,
    gh: number,
    dx: number,
    dy: number,
    out: Float32Array,
    slack: Float32Array,
  ): void;
  /** photometry.ts `LightEstimator#fit`'s histogram of differences per light group (cleared first). */
  lightHistogram(
    frame: Float32Array,
    background: Float32Array,
    skip: Uint8Array,
    hist: Uint32Array,
    count: Float64Array,
    sum: Float64Array,
  ): void;
  /** structure.ts `lightOnly`. */
  lightOnly(
    cur: Float32Array,
    ref: Float32Array,
    i: number,
    gw: number,
    gh: number,
    noise: number,
    residualAllowed: number,
  ): boolean;
  /** cells.ts `compareCells`, with the cells in `CELL_ARRAYS` order and `params` in `COMPARE_PARAMS` order. */
  compare(...args: [...CellArrays, Float64Array, Int32Array]): void;
  /** cells.ts `weighCells`; `out` gets plain, lit, sampled. */
  weigh(
    cur: Float32Array,
    bg: Float32Array,
    dev: Float32Array,
    floorByLevel: Float32Array,
    unsure: Uint8Array,
    k: number,
    slope: number,
    offset: number,
    stride: number,
    out: Int32Array,
  ): void;
}

/** What `compare` reads and updates, cell by cell (see cells.ts). */
export type CellArrays = [
  cur: Float32Array,
  prev: Float32Array,
  bg: Float32Array,
  ref: Float32Array,
  dev: Float32Array,
  still: Float32Array,
  fast: Float32Array,
  fastDev: Float32Array,
  slack: Float32Array,
  floorByLevel: Float32Array,
  unsure: Uint8Array,
  changed: Uint8Array,
  mask: Uint8Array,
  lit: Uint8Array,
];

/** Which loops a detector runs: the addon's, or the TypeScript originals. */
export type KernelChoice = 'native' | 'typescript';

/** Both the source (src/motion/) and the bundle's chunks (dist/bundle/) sit two levels below the root. */
export const MOTION_ADDON = fileURLToPath(new URL('../../dist/native/motion-kernels.node', import.meta.url));

const FUNCTIONS = [
  'binFrame',
  'majority',
  'along',
  'shiftInto',
  'lightHistogram',
  'lightOnly',
  'compare',
  'weigh',
] as const satisfies readonly (keyof MotionAddon)[];

/** The addon, loaded once per process, or why it is not there. */
export function motionAddon(path = MOTION_ADDON): MotionAddon | string {
  return loadAddon<MotionAddon>(path, FUNCTIONS);
}
