import { describe, expect, it } from 'vitest';
import { COMPARE_PARAMS, type CompareParams, weighCells } from '../../src/motion/cells.js';
import { COMPARE_CONSTANTS, MotionDetector } from '../../src/motion/detector.js';
import { binFrame, gridFor, majority } from '../../src/motion/grid.js';
import { type CellArrays, type MotionAddon, motionAddon } from '../../src/motion/kernels.js';
import { lightHistogram } from '../../src/motion/photometry.js';
import { MAX_SHIFT, ShiftEstimator, shiftInto } from '../../src/motion/shift.js';
import { lightOnly } from '../../src/motion/structure.js';
import { CLIPS, FRAME_MS, frames, HEIGHT, WIDTH } from './clips.js';
import { compareBothWays, firstDifference } from './compare-both-ways.js';
import { H, type Paint, render, rng, scene, shadowAt, shakeAt, W, walkerAt } from './synthetic.js';

// The native kernels (kernels.c) against their TypeScript originals: the same inputs must give the same
// outputs bit for bit, kernel by kernel on random inputs, and frame by frame on whole scenes. The tests
// run after `npm run build`, which builds the addon (scripts/ensure.mjs checks for the compiler).
const loaded = motionAddon();
if (typeof loaded === 'string')
  throw new Error(`the motion kernels addon must be built for these tests: ${loaded}`);
const addon: MotionAddon = loaded;

const random = rng(20261207);
const pick = (lo: number, hi: number) => lo + random() * (hi - lo);
const floats = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => pick(lo, hi));
const flags = (n: number, share: number) => Uint8Array.from({ length: n }, () => (random() < share ? 1 : 0));
/** A picture with texture, flat patches and saturated spots, the kinds of cell the kernels branch on. */
function picture(n: number): Float32Array {
  const out = new Float32Array(n);
  let level = pick(0, 255);
  for (let i = 0; i < n; i += 1) {
    if (random() < 0.1) level = pick(0, 255);
    out[i] = Math.min(255, Math.max(0, level + pick(-8, 8)));
  }
  return out;
}
/** `cur` is `base` under a gain and offset, with noise, and an object pasted in now and then. */
function lightened(base: Float32Array, slope: number, offset: number, noise: number): Float32Array {
  return base.map((b) =>
    random() < 0.05 ? pick(0, 255) : Math.min(255, Math.max(0, b + slope * b + offset + pick(-noise, noise))),
  );
}
const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('native motion kernels give the TypeScript results bit for bit', () => {
  it('binFrame, for bins of 1 to 4', () => {
    for (const [width, height] of [
      [320, 180],
      [160, 90],
      [480, 270],
      [640, 360],
      [33, 17],
    ] as const) {
      const grid = gridFor(width, height);
      const data = Uint8Array.from({ length: width * height }, () => (random() * 256) | 0);
      const a = new Float32Array(grid.width * grid.height);
      const b = new Float32Array(grid.width * grid.height);
      const meanA = binFrame(data, width, grid, a);
      const meanB = addon.binFrame(data, width, grid.bin, grid.width, grid.height, b);
      expect(meanB, `${width}x${height}`).toBe(meanA);
      expect(bytes(b).equals(bytes(a)), `${width}x${height}`).toBe(true);
    }
  });

  it('majority, with and without kept cells', () => {
    for (let round = 0; round < 50; round += 1) {
      const grid = { bin: 2, width: 3 + ((random() * 60) | 0), height: 3 + ((random() * 40) | 0) };
      const n = grid.width * grid.height;
      const changed = flags(n, pick(0.1, 0.7));
      const mask = flags(n, 0.9);
      const rows = new Uint8Array(n);
      const keptA = new Uint8Array(n);
      const keptB = new Uint8Array(n);
      const blobs = majority(changed, mask, grid, rows, { count: 0, x0: 0, y0: 0, x1: 0, y1: 0 }, keptA);
      const out = new Int32Array(5);
      addon.majority(
        changed,
        mask,
        grid.width,
        grid.height,
        new Uint8Array(n),
        round % 2 ? keptB : null,
        out,
      );
      expect([...out]).toEqual([blobs.count, blobs.x0, blobs.y0, blobs.x1, blobs.y1]);
      if (round % 2) expect(bytes(keptB).equals(bytes(keptA))).toBe(true);
    }
  });

  it('the shift estimate and shiftInto, whole and half cells', () => {
    const grid = gridFor(W, H);
    const n = grid.width * grid.height;
    const typescript = new ShiftEstimator();
    const native = new ShiftEstimator(addon);
    let shifts = 0;
    for (let round = 0; round < 40; round += 1) {
      const background = picture(n);
      const dx = Math.round(pick(-MAX_SHIFT, MAX_SHIFT) * 2) / 2;
      const dy = Math.round(pick(-MAX_SHIFT, MAX_SHIFT) * 2) / 2;
      const frame = new Float32Array(n);
      const slack = new Float32Array(n);
      shiftInto(background, grid, { dx, dy }, frame, slack);
      for (let i = 0; i < n; i += 1) frame[i] = (frame[i] as number) * 1.1 + pick(-2, 2);
      const a = typescript.estimate(frame, background, grid, { dx: 0, dy: 0 });
      const b = native.estimate(frame, background, grid, { dx: 0, dy: 0 });
      expect(b).toEqual(a);
      if (a.dx !== 0 || a.dy !== 0) shifts += 1;
      const outA = new Float32Array(n);
      const slackA = new Float32Array(n);
      const outB = new Float32Array(n);
      const slackB = new Float32Array(n);
      shiftInto(background, grid, { dx, dy }, outA, slackA);
      addon.shiftInto(background, grid.width, grid.height, dx, dy, outB, slackB);
      expect(bytes(outB).equals(bytes(outA))).toBe(true);
      expect(bytes(slackB).equals(bytes(slackA))).toBe(true);
    }
    // The inputs were shifted pictures: most rounds must have found a shift, or the test saw only NaN.
    expect(shifts).toBeGreaterThan(20);
  });

  it('the light histogram', () => {
    const n = 160 * 90;
    for (let round = 0; round < 20; round += 1) {
      const background = picture(n);
      const frame = lightened(background, pick(-0.5, 1), pick(-30, 30), 6);
      const skip = flags(n, 0.1);
      const a = [new Uint32Array(16 * 512), new Float64Array(16), new Float64Array(16)] as const;
      const b = [
        new Uint32Array(16 * 512).fill(7),
        new Float64Array(16).fill(7),
        new Float64Array(16),
      ] as const;
      lightHistogram(frame, background, skip, ...a);
      addon.lightHistogram(frame, background, skip, ...b);
      for (let k = 0; k < 3; k += 1)
        expect(bytes(b[k] as ArrayBufferView).equals(bytes(a[k] as ArrayBufferView))).toBe(true);
    }
  });

  it('lightOnly, on textured, flat and saturated windows', () => {
    const gw = 40;
    const gh = 24;
    let lit = 0;
    for (let round = 0; round < 3000; round += 1) {
      const ref = picture(gw * gh);
      const cur = lightened(ref, pick(-0.6, 1.5), pick(-20, 20), pick(0, 10));
      const i = (random() * gw * gh) | 0;
      const noise = pick(0.5, 8);
      const residual = random() < 0.5 ? 2 : 1.5;
      const expected = lightOnly(cur, ref, i, gw, gh, noise, residual);
      if (expected) lit += 1;
      expect(addon.lightOnly(cur, ref, i, gw, gh, noise, residual)).toBe(expected);
    }
    // Both answers must have come up often, or the comparison proves little.
    expect(lit).toBeGreaterThan(300);
    expect(lit).toBeLessThan(2700);
  });

  it('compareCells and weighCells, over every branch', () => {
    const gw = 48;
    const gh = 27;
    const n = gw * gh;
    for (let round = 0; round < 300; round += 1) {
      const steady = random() < 0.3;
      const slope = steady ? 0 : pick(-0.5, 1);
      const offset = steady ? 0 : pick(-25, 25);
      const bg = picture(n);
      const cur = lightened(bg, random() < 0.5 ? 0 : slope, offset, pick(1, 12));
      const floorByLevel = floats(256, 2, 6);
      const make = (): CellArrays => [
        cur,
        lightened(cur, 0, 0, 6),
        bg.slice(),
        bg.slice(),
        floats(n, 0, 10),
        floats(n, 0, 12000),
        lightened(bg, 0, 0, 8),
        floats(n, 0, 6),
        floats(n, 0, 10),
        floorByLevel,
        flags(n, 0.1),
        new Uint8Array(n),
        flags(n, 0.8),
        new Uint8Array(n),
      ];
      const a = make();
      const params: CompareParams = {
        slope,
        offset,
        absorb: random() < 0.5 ? 1 : 0,
        shaken: random() < 0.3 ? 1 : 0,
        shaky: random() < 0.3 ? 1 : 0,
        averaged: random() < 0.5 ? 1 : 0,
        k: pick(2, 6),
        stillMs: 10000,
        dt: pick(50, 400),
        aBg: pick(0, 0.1),
        aFg: pick(0, 0.01),
        aDev: pick(0, 0.1),
        aFast: pick(0.2, 1),
        gw,
        gh,
        ...COMPARE_CONSTANTS,
      };
      const { typescript, native } = compareBothWays(addon, a, params);
      expect([...native.counts], `round ${round}`).toEqual([...typescript.counts]);
      expect(typescript.counts[0], 'some cells changed').toBeGreaterThan(0);
      expect(firstDifference(typescript, native), `round ${round}`).toBe(-1);
      const k = params.k;
      const weighA = new Int32Array(3);
      const weighB = new Int32Array(3);
      weighCells(cur, bg, a[4], floorByLevel, a[10], k, slope, offset, 3, weighA);
      addon.weigh(cur, bg, a[4], floorByLevel, a[10], k, slope, offset, 3, weighB);
      expect([...weighB]).toEqual([...weighA]);
    }
  });

  it('refuses arrays too short for the grid, instead of reading past them', () => {
    const short = new Float32Array(10);
    expect(() => addon.binFrame(new Uint8Array(100), 320, 2, 160, 90, new Float32Array(160 * 90))).toThrow(
      TypeError,
    );
    expect(() => addon.shiftInto(short, 160, 90, 1, 1, short, short)).toThrow(/too short/);
    expect(() => addon.along(short, short, 160, 0, 0, 40, 30, true)).toThrow(/too short/);
    expect(() => addon.lightOnly(short, short, 9, 160, 90, 2, 2)).toThrow(/too short/);
    const cells = Array.from({ length: 14 }, (_, k) =>
      k < 10 ? short : new Uint8Array(10),
    ) as unknown as CellArrays;
    const params = new Float64Array(COMPARE_PARAMS.length);
    params[COMPARE_PARAMS.indexOf('gw')] = 160;
    params[COMPARE_PARAMS.indexOf('gh')] = 90;
    expect(() => addon.compare(...cells, params, new Int32Array(3))).toThrow(/too short/);
  });
});

/** Every frame's result from both detectors, which must be equal throughout. */
function bothWays(
  frameList: readonly Uint8Array[],
  width: number,
  height: number,
  frameMs: number,
  sensitivity = 50,
): number {
  const native = new MotionDetector({ sensitivity, kernels: 'native' });
  const typescript = new MotionDetector({ sensitivity, kernels: 'typescript' });
  expect(native.kernels).toBe('native');
  expect(typescript.kernels).toBe('typescript');
  let motion = 0;
  frameList.forEach((data, i) => {
    const frame = { width, height, data, ts: i * frameMs };
    const expected = typescript.push(frame);
    expect(native.push(frame), `frame ${i}`).toEqual(expected);
    if (expected.motion) motion += 1;
  });
  return motion;
}

describe('a detector on native kernels decides as one on TypeScript, frame by frame', () => {
  const base = scene(1);
  const walker = walkerAt;
  const shadow = shadowAt;
  const jitter = shakeAt;
  const cases: [string, Float32Array, (k: number) => Paint][] = [
    ['walker', base, (k) => ({ noise: 2, rects: [walker(k)] })],
    ['shake', base, (k) => ({ noise: 2, shift: jitter(k), rects: k > 60 ? [walker(k)] : [] })],
    ['sweeping shadow', base, (k) => ({ noise: 2, light: shadow(k) })],
    ['night noise', base.map((v) => v * 0.2), (k) => ({ noise: 10, rects: [{ ...walker(k), level: 30 }] })],
    ['everything', base, (k) => ({ noise: 6, shift: jitter(k), light: shadow(k), rects: [walker(k)] })],
  ];
  for (const [name, scenery, paint] of cases) {
    it(`synthetic: ${name}`, () => {
      const frameList = Array.from({ length: 120 }, (_, k) => render(scenery, { seed: k, ...paint(k) }));
      const motion = bothWays(frameList, W, H, 200);
      if (name !== 'sweeping shadow') expect(motion, 'the scene has motion to decide').toBeGreaterThan(0);
    });
  }

  it('the clip suite (real ffmpeg pictures, day, night, lights, rain)', async () => {
    let motion = 0;
    for (const clip of CLIPS) motion += bothWays(await frames(clip), WIDTH, HEIGHT, FRAME_MS);
    expect(motion).toBeGreaterThan(0);
  }, 300_000);
});
