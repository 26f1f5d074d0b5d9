// CPU per 320x180 analysis frame of MotionDetector.push, by what the picture does: still, a walker,
// shake (global motion compensated), a sweeping shadow (structure test on many cells), heavy night noise
// (running means), and everything at once. Synthetic frames (test/motion/synthetic.ts), rendered before
// timing. Each case twice: with the native kernels (kernels.c, when built) and the TypeScript ones. Run:
// node [--lite-mode] --import tsx bench/motion-cpu.ts. Figures printed, nothing asserted; on a shared
// machine they are noisy. Goal: under 1 ms per frame.
import { MotionDetector } from '../src/motion/detector.js';
import { type KernelChoice, motionAddon } from '../src/motion/kernels.js';
import { H, type Paint, render, rng, scene, W } from '../test/motion/synthetic.js';

const FRAMES = 150;
const ROUNDS = 5;
const base = scene(1);
const dark = base.map((v) => v * 0.2);
const random = rng(3);
const jitter = Array.from({ length: FRAMES }, () => ({
  x: Math.round((random() * 2 - 1) * 3),
  y: Math.round((random() * 2 - 1) * 3),
}));
const walker = (k: number) => ({ x: ((k * 6) % (W + 40)) - 20, y: 60, w: 24, h: 60, level: 20 });
const shadow = (k: number) => (x: number) => 1 - 0.45 / (1 + Math.exp(-(k * 2 - 40 - x) / 20));

const cases: [string, Float32Array, (k: number) => Paint][] = [
  ['still', base, () => ({ noise: 2 })],
  ['walker', base, (k) => ({ noise: 2, rects: [walker(k)] })],
  ['shake +-3 px', base, (k) => ({ noise: 2, shift: jitter[k] })],
  ['sweeping shadow', base, (k) => ({ noise: 2, light: shadow(k) })],
  ['night noise 10', dark, (k) => ({ noise: 10, rects: [{ ...walker(k), level: 30 }] })],
  ['all at once', base, (k) => ({ noise: 6, shift: jitter[k], light: shadow(k), rects: [walker(k)] })],
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

console.log(
  `MotionDetector.push CPU per ${W}x${H} frame, ${FRAMES} frames x ${ROUNDS} rounds, node ${process.version}`,
);
console.log(
  `${'case'.padEnd(18)} ${'kernels'.padEnd(10)} ${'median'.padStart(9)} ${'p95'.padStart(9)} ${'max'.padStart(9)}`,
);
const addon = motionAddon();
const choices: KernelChoice[] = typeof addon === 'string' ? ['typescript'] : ['native', 'typescript'];
if (typeof addon === 'string') console.log(`native kernels: ${addon} (npm run build)`);
for (const [name, scenery, paint] of cases)
  for (const kernels of choices) {
    const frames = Array.from({ length: FRAMES }, (_, k) => render(scenery, { seed: k, ...paint(k) }));
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const detector = new MotionDetector({ sensitivity: 50, kernels });
      // Learn the still scene first, as a camera would have.
      for (let i = 0; i < 20; i += 1)
        detector.push({ width: W, height: H, data: render(scenery, { seed: i }), ts: i * 200 });
      frames.forEach((data, k) => {
        const before = process.cpuUsage();
        detector.push({ width: W, height: H, data, ts: (20 + k) * 200 });
        const used = process.cpuUsage(before);
        // The first round pays for JIT compilation.
        if (round > 0) times.push((used.user + used.system) / 1000);
      });
    }
    times.sort((a, b) => a - b);
    const ms = (v: number) => `${v.toFixed(3)} ms`.padStart(9);
    console.log(
      `${name.padEnd(18)} ${kernels.padEnd(10)} ${ms(percentile(times, 0.5))} ${ms(percentile(times, 0.95))} ${ms(times[times.length - 1] ?? 0)}`,
    );
  }
console.log('process.cpuUsage has about 1 us resolution; the machine is shared: figures are noisy.');
