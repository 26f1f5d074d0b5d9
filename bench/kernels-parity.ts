// The native motion kernels against the TypeScript ones where the unit tests cannot go: under qemu-user
// with an ARM build of the addon (the unit tests compare the x64 build). Over synthetic scenes and the
// clip suite: two detectors, one on each, every FrameResult equal; and the comparison pass on each pair
// of consecutive frames, every cell array equal byte for byte. Exits on the first difference. (A build
// with fused multiply-adds, -ffp-contract=fast on arm64, 39 of them, still passed on this data: the
// cells are stored as float, which hides a double's last bit. -ffp-contract=off is a safeguard that
// this script does not prove necessary.) Run natively, or bundled
// (tsx needs esbuild's binary for the host) and emulated with a cross-built addon:
//
//   node --import tsx bench/kernels-parity.ts [--addon dist/native/motion-kernels.node]
//   npx esbuild bench/kernels-parity.ts --bundle --platform=node --format=esm --outfile=/tmp/parity.mjs
//   qemu-aarch64 <arm64 node> /tmp/parity.mjs --addon <arm64 build of motion-kernels.node>
import { isDeepStrictEqual, parseArgs } from 'node:util';
import type { CompareParams } from '../src/motion/cells.js';
import { COMPARE_CONSTANTS, MotionDetector } from '../src/motion/detector.js';
import { binFrame, gridFor } from '../src/motion/grid.js';
import { type CellArrays, MOTION_ADDON, type MotionAddon, motionAddon } from '../src/motion/kernels.js';
import { CLIPS, FRAME_MS, frames, HEIGHT, WIDTH } from '../test/motion/clips.js';
import { compareBothWays, firstDifference } from '../test/motion/compare-both-ways.js';
import { H, render, scene, shadowAt, shakeAt, W, walkerAt } from '../test/motion/synthetic.js';

const { values } = parseArgs({ options: { addon: { type: 'string', default: MOTION_ADDON } } });
const loaded = motionAddon(values.addon);
if (typeof loaded === 'string') throw new Error(`${values.addon}: ${loaded}`);
const addon: MotionAddon = loaded;

let compared = 0;
let cellPasses = 0;

/** The comparison pass on frame `cur` against `bg` (the previous frame), in C and in TypeScript. */
function comparePass(
  name: string,
  i: number,
  cur: Float32Array,
  bg: Float32Array,
  gw: number,
  gh: number,
): void {
  const n = gw * gh;
  const level = (k: number) => Float32Array.from({ length: n }, (_, j) => ((j * 7 + k) % 13) + 0.5);
  const floorByLevel = new Float32Array(256).fill(2.5);
  const mask = new Uint8Array(n).fill(1);
  const make = (): CellArrays => [
    cur,
    bg,
    bg.slice(),
    bg.slice(),
    level(1),
    level(2).map((v) => v * 500),
    bg.map((v, j) => (v + (cur[j] as number)) / 2),
    level(3).map((v) => v / 3),
    level(4),
    floorByLevel,
    new Uint8Array(n).map((_, j) => (j % 29 === 0 ? 1 : 0)),
    new Uint8Array(n),
    mask,
    new Uint8Array(n),
  ];
  for (const light of [
    { slope: 0, offset: 0, shaky: 0 },
    { slope: 0.3, offset: -7.5, shaky: 1 },
  ]) {
    const params: CompareParams = {
      ...light,
      absorb: 1,
      shaken: 1,
      averaged: 1,
      k: 3,
      stillMs: 10000,
      dt: 200,
      aBg: 0.024,
      aFg: 0.0033,
      aDev: 0.033,
      aFast: 0.39,
      gw,
      gh,
      ...COMPARE_CONSTANTS,
    };
    const { typescript, native } = compareBothWays(addon, make(), params);
    const differs = firstDifference(typescript, native);
    if (differs >= 0) {
      console.error(
        `${name}, frame ${i}: the comparison pass differs (array ${differs} of cells, then counts)`,
      );
      process.exit(1);
    }
    cellPasses += 1;
  }
}
let motion = 0;
function bothWays(
  name: string,
  list: readonly Uint8Array[],
  width: number,
  height: number,
  ms: number,
): void {
  const native = new MotionDetector({ sensitivity: 50, kernels: 'native', addon });
  const typescript = new MotionDetector({ sensitivity: 50, kernels: 'typescript' });
  const grid = gridFor(width, height);
  const cells = (data: Uint8Array) => {
    const out = new Float32Array(grid.width * grid.height);
    binFrame(data, width, grid, out);
    return out;
  };
  list.forEach((data, i) => {
    const previous = list[i - 1];
    if (previous) comparePass(name, i, cells(data), cells(previous), grid.width, grid.height);
    const frame = { width, height, data, ts: i * ms };
    const expected = typescript.push(frame);
    const got = native.push(frame);
    if (!isDeepStrictEqual(got, expected)) {
      console.error(
        `${name}, frame ${i}: native ${JSON.stringify(got)}\n  typescript ${JSON.stringify(expected)}`,
      );
      process.exit(1);
    }
    compared += 1;
    if (expected.motion) motion += 1;
  });
}

const base = scene(1);
const walker = walkerAt;
const shadow = shadowAt;
const jitter = shakeAt;
bothWays(
  'synthetic: everything at once',
  Array.from({ length: 120 }, (_, k) =>
    render(base, { seed: k, noise: 6, shift: jitter(k), light: shadow(k), rects: [walker(k)] }),
  ),
  W,
  H,
  200,
);
for (const clip of CLIPS) bothWays(clip.id, await frames(clip), WIDTH, HEIGHT, FRAME_MS);
console.log(
  `${process.arch}, node ${process.version}: ${compared} frames, ${motion} with motion, every result equal; ${cellPasses} comparison passes, every cell equal (${values.addon})`,
);
