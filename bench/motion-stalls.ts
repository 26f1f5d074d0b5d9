// Motion on the validation clips (never tuned on) delivered with seeded stalls and bursts (0.3-1.5 s, as a
// loaded decoder does), stamped on arrival and by src/media/analysis-clock.ts: false starts and hits.
// Run: node --import tsx bench/motion-stalls.ts (figures printed, nothing asserted).
import { AnalysisClock } from '../src/media/analysis-clock.js';
import { MotionEngine } from '../src/motion/engine.js';
import { SCENES } from '../test/motion/scenes.js';
import { FPS, render } from './motion-suite/render.js';
import { SUITE } from './motion-suite/suite.js';

const INTERVAL = 1000 / FPS;
function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}
const tot = { arrival: 0, clocked: 0, clips: 0, hitsA: 0, hitsC: 0, truth: 0 };
for (const spec of SUITE.filter((c) => c.set === 'validation')) {
  const { frames, truth } = render(spec);
  for (const seed of [1, 2, 3]) {
    const next = rng(seed);
    const arrivals: number[] = [];
    let a = 0;
    let behind = 0;
    for (let n = 0; n < frames.length; n++) {
      if (behind === 0 && next() < 0.02) behind = 300 + next() * 1200;
      a = Math.max(a + 1, n * INTERVAL + behind);
      behind = Math.max(0, behind - INTERVAL * 1.5);
      arrivals.push(a);
    }
    for (const mode of ['arrival', 'clocked'] as const) {
      const clock = new AnalysisClock(FPS);
      let cur = 0;
      const starts: number[] = [];
      const engine = new MotionEngine({
        motion: { enabled: true, sensitivity: 50, zones: [], cooldownSeconds: 30 },
        nightMode: 'auto',
        onEvent: (e) => {
          if (e.type === 'start') starts.push(cur / FPS);
        },
      });
      arrivals.forEach((t, n) => {
        cur = n;
        engine.push({
          width: 320,
          height: 180,
          data: frames[n] as Buffer,
          ts: mode === 'clocked' ? clock.stamp(t) : t,
        });
      });
      const inTruth = (s: number) => truth.some((i) => s >= i.start - 0.2 && s <= i.end + 5.5);
      const fa = starts.filter((s) => !inTruth(s)).length;
      const hits = truth.filter((i) => starts.some((s) => s >= i.start - 0.2 && s <= i.end)).length;
      tot[mode] += fa;
      if (mode === 'arrival') tot.hitsA += hits;
      else tot.hitsC += hits;
    }
    tot.clips += 1;
    tot.truth += truth.length;
  }
}
console.log(JSON.stringify(tot));

// The end-to-end shadow scene (test/motion/scenes.ts), 4 loops x 6 seeds, under three kinds of delivery
// trouble: the margin of a marginal scene. Printed: false starts per seed (anything but the walker).
const shadow = render(SCENES.shadow).frames;
const LOOPS = 4;
type Delivery = { n: number; arrival: number }[];
const deliveries: Record<string, (next: () => number) => Delivery> = {
  'stalls 0.3-1.5 s': (next) => stalled(next, 0.02, 300, 1200),
  'stalls 3-6 s': (next) => stalled(next, 0.005, 3000, 3000),
  'runs of 5-35 frames lost': (next) => {
    const out: Delivery = [];
    let skip = 0;
    for (let n = 0; n < shadow.length * LOOPS; n++) {
      if (skip > 0) skip -= 1;
      else if (next() < 0.01) skip = 5 + Math.floor(next() * 30);
      else out.push({ n, arrival: n * INTERVAL });
    }
    return out;
  },
};
function stalled(next: () => number, chance: number, least: number, spread: number): Delivery {
  const out: Delivery = [];
  let arrival = 0;
  let behind = 0;
  for (let n = 0; n < shadow.length * LOOPS; n++) {
    if (behind === 0 && next() < chance) behind = least + next() * spread;
    arrival = Math.max(arrival + 1, n * INTERVAL + behind);
    behind = Math.max(0, behind - INTERVAL * 1.5);
    out.push({ n, arrival });
  }
  return out;
}
for (const [what, deliver] of Object.entries(deliveries)) {
  const perSeed = [1, 2, 3, 4, 5, 6].map((seed) => {
    const clock = new AnalysisClock(FPS);
    let current = 0;
    let falseStarts = 0;
    const engine = new MotionEngine({
      motion: { enabled: true, sensitivity: 50, zones: [], cooldownSeconds: 30 },
      nightMode: 'auto',
      onEvent: (e) => {
        const t = (current % shadow.length) / FPS;
        const walker = t >= 20 && t < 24 && e.box.x < 0.15;
        if (e.type === 'start' && !walker) falseStarts += 1;
      },
    });
    for (const { n, arrival } of deliver(rng(seed))) {
      current = n;
      engine.push({
        width: 320,
        height: 180,
        data: shadow[n % shadow.length] as Buffer,
        ts: clock.stamp(arrival),
      });
    }
    return falseStarts;
  });
  console.log(`shadow scene, ${what}: false starts per seed ${perSeed.join(',')} (${LOOPS} loops each)`);
}
