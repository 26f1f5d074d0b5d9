import {
  COMPARE_PARAMS,
  type CompareParams,
  compareCells,
  packCompareParams,
} from '../../src/motion/cells.js';
import type { CellArrays, MotionAddon } from '../../src/motion/kernels.js';

export interface Pass {
  cells: CellArrays;
  counts: Int32Array;
}

/** The comparison pass from the same state, once in TypeScript and once in the addon, each on its own copy. */
export function compareBothWays(
  addon: MotionAddon,
  cells: CellArrays,
  params: CompareParams,
): { typescript: Pass; native: Pass } {
  const copy = () => cells.map((array) => array.slice()) as unknown as CellArrays;
  const typescript = { cells: copy(), counts: new Int32Array(3) };
  const native = { cells: copy(), counts: new Int32Array(3) };
  compareCells(typescript.cells, params, typescript.counts);
  addon.compare(
    ...native.cells,
    packCompareParams(params, new Float64Array(COMPARE_PARAMS.length)),
    native.counts,
  );
  return { typescript, native };
}

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** The index of the first cell array that differs between the two passes (3 more: the counts), or -1. */
export function firstDifference(a: Pass, b: Pass): number {
  const k = a.cells.findIndex((array, j) => !bytes(array).equals(bytes(b.cells[j] as ArrayBufferView)));
  if (k >= 0) return k;
  return bytes(a.counts).equals(bytes(b.counts)) ? -1 : a.cells.length;
}
