// The generated clip suite of bench/motion.ts: scenes of five layouts with people at several distances
// and speeds, cars, animals, and what must not alarm (shake, shadows, headlights, rain, snow, foliage,
// IR switching, night noise, lens flare and dirt, lamps, exposure). Each clip is 20 s at 15 fps,
// rendered at bench time from its seed (nothing stored). `set: 'validation'` marks the clips no
// constant of the detector or the alarm may be tuned on: look at their figures, never fit to them.
import { crossing } from './actors.js';
import { type ClipSpec, type Effects, FPS, type Interval, render } from './render.js';

export type { ClipSpec, Interval };
export { FPS };

/** A door slammed: a few seconds of decaying shake from `t0`. */
function slam(t0: number, amp: number, seconds = 2.5): Effects['shake'] {
  return (t) => {
    if (t < t0 || t > t0 + seconds) return [0, 0];
    const decay = Math.exp(-(t - t0) * 1.6);
    return [amp * decay * Math.sin((t - t0) * 37), amp * 0.6 * decay * Math.cos((t - t0) * 29)];
  };
}

/** Wind on the mast: continuous small vibration. */
function vibration(amp: number): Effects['shake'] {
  return (t) => [amp * Math.sin(t * 23) * Math.sin(t * 1.7), amp * 0.7 * Math.sin(t * 19 + 1)];
}

const DARK: [number, number] = [35, 45];
const LIGHT: [number, number] = [215, 90];
const RED: [number, number] = [95, 60];

export const SUITE: readonly ClipSpec[] = [
  // People: near, mid, far; slow, walking, running; several layouts.
  {
    id: 'p01-street-walker-near',
    title: 'street: a walker near the camera (tall), left to right',
    set: 'train',
    layout: 'street',
    seed: 11,
    actors: [crossing('person', { t0: 4, y: 176, size: 110, speed: 70, levels: DARK })],
  },
  {
    id: 'p02-street-walker-far',
    title: 'street: a small far walker on the pavement',
    set: 'train',
    layout: 'street',
    seed: 12,
    actors: [crossing('person', { t0: 3, y: 118, size: 26, speed: 28, dir: -1, levels: LIGHT })],
  },
  {
    id: 'p03-garden-walker',
    title: 'garden: a walker on the path at mid distance',
    set: 'validation',
    layout: 'garden',
    seed: 13,
    actors: [crossing('person', { t0: 5, y: 135, size: 55, speed: 45, levels: RED })],
  },
  {
    id: 'p04-porch-visitor',
    title: 'porch: a visitor walks up close, in front of the door, then away',
    set: 'train',
    layout: 'porch',
    seed: 14,
    actors: [crossing('person', { t0: 4, y: 178, size: 150, speed: 60, dir: -1, levels: [60, 40] })],
  },
  {
    id: 'p05-street-runner',
    title: 'street: a runner (150 px/s)',
    set: 'validation',
    layout: 'street',
    seed: 15,
    actors: [crossing('person', { t0: 6, y: 132, size: 50, speed: 150, levels: LIGHT })],
  },
  {
    id: 'p06-carpark-far-slow',
    title: 'car park: a far, slow walker between cars',
    set: 'train',
    layout: 'carpark',
    seed: 16,
    actors: [crossing('person', { t0: 3, y: 80, size: 22, speed: 18, levels: DARK })],
  },
  {
    id: 'p07-driveway-walker',
    title: 'driveway: a walker in light clothes on light asphalt',
    set: 'validation',
    layout: 'driveway',
    seed: 17,
    actors: [crossing('person', { t0: 4, y: 150, size: 80, speed: 55, dir: -1, levels: [120, 100] })],
  },
  {
    id: 'p08-two-walkers-10s',
    title: 'street: two walkers 10 s apart (two events)',
    set: 'train',
    layout: 'street',
    seed: 18,
    seconds: 24,
    actors: [
      crossing('person', { t0: 2, y: 132, size: 50, speed: 90, levels: DARK }),
      crossing('person', { t0: 12, y: 132, size: 50, speed: 90, dir: -1, levels: LIGHT }),
    ],
  },
  {
    id: 'p09-garden-two-walkers',
    title: 'garden: two walkers 11 s apart, near and far (two events)',
    set: 'validation',
    layout: 'garden',
    seed: 19,
    seconds: 24,
    actors: [
      crossing('person', { t0: 2.5, y: 170, size: 90, speed: 110, levels: RED }),
      crossing('person', { t0: 13.5, y: 100, size: 30, speed: 60, dir: -1, levels: DARK }),
    ],
  },
  // Vehicles and animals.
  {
    id: 'v01-driveway-car-slow',
    title: 'driveway: a car pulls through slowly',
    set: 'train',
    layout: 'driveway',
    seed: 21,
    actors: [crossing('car', { t0: 4, y: 160, size: 130, speed: 60, levels: [60, 0] })],
  },
  {
    id: 'v02-street-fast-car',
    title: 'street: a car crossing the whole picture in 0.8 s',
    set: 'train',
    layout: 'street',
    seed: 22,
    actors: [crossing('car', { t0: 6, y: 170, size: 90, speed: 510, levels: [200, 0] })],
  },
  {
    id: 'v03-carpark-fast-car',
    title: 'car park: a car crossing in 0.9 s, the other way',
    set: 'validation',
    layout: 'carpark',
    seed: 23,
    actors: [crossing('car', { t0: 5, y: 140, size: 80, speed: 450, dir: -1, levels: [40, 0] })],
  },
  {
    id: 'v04-garden-cat',
    title: 'garden: a cat crossing the lawn',
    set: 'train',
    layout: 'garden',
    seed: 24,
    actors: [crossing('animal', { t0: 4, y: 160, size: 26, speed: 55, levels: [50, 30] })],
  },
  {
    id: 'v05-street-dog',
    title: 'street: a dog trotting along the pavement',
    set: 'validation',
    layout: 'street',
    seed: 25,
    actors: [crossing('animal', { t0: 5, y: 130, size: 34, speed: 85, dir: -1, levels: [150, 90] })],
  },
  {
    id: 'v06-driveway-cyclist',
    title: 'driveway: a fast small cyclist-sized figure far away',
    set: 'train',
    layout: 'driveway',
    seed: 26,
    actors: [crossing('person', { t0: 7, y: 110, size: 30, speed: 120, levels: DARK })],
  },
  // People under difficult conditions.
  {
    id: 'h01-night-walker',
    title: 'night: a walker in a dark, noisy picture',
    set: 'train',
    layout: 'street',
    seed: 31,
    actors: [crossing('person', { t0: 5, y: 132, size: 55, speed: 50, levels: [60, 40] })],
    effects: { night: 0.18, noise: 5 },
  },
  {
    id: 'h02-ir-walker',
    title: 'IR night: a walker in grainy IR light',
    set: 'validation',
    layout: 'garden',
    seed: 32,
    actors: [crossing('person', { t0: 5, y: 135, size: 60, speed: 45, dir: -1, levels: [170, 150] })],
    effects: { irAt: 0, noise: 6 },
  },
  {
    id: 'h03-shake-walker',
    title: 'a walker while the camera vibrates in the wind',
    set: 'train',
    layout: 'driveway',
    seed: 33,
    actors: [crossing('person', { t0: 6, y: 150, size: 70, speed: 55, levels: DARK })],
    effects: { shake: vibration(1.5) },
  },
  {
    id: 'h04-rain-walker',
    title: 'a walker in heavy rain',
    set: 'validation',
    layout: 'street',
    seed: 34,
    actors: [crossing('person', { t0: 5, y: 132, size: 55, speed: 60, levels: DARK })],
    effects: { rain: 120, light: () => ({ gain: 0.85, offset: 10 }) },
  },
  {
    id: 'h05-foliage-walker',
    title: 'garden: a walker while the hedge sways in the wind',
    set: 'train',
    layout: 'garden',
    seed: 35,
    actors: [crossing('person', { t0: 6, y: 170, size: 80, speed: 60, levels: LIGHT })],
    effects: { wind: 3 },
  },
  {
    id: 'h06-night-car-lights',
    title: 'night: a car with headlights drives through',
    set: 'train',
    layout: 'carpark',
    seed: 36,
    actors: [crossing('car', { t0: 6, y: 140, size: 90, speed: 120, levels: [200, 0], lights: true })],
    effects: { night: 0.2, noise: 4 },
  },
  {
    id: 'h07-shadow-walker',
    title: 'a walker while a cloud shadow passes',
    set: 'validation',
    layout: 'driveway',
    seed: 37,
    actors: [crossing('person', { t0: 9, y: 150, size: 70, speed: 60, dir: -1, levels: RED })],
    effects: { cloud: { depth: 0.45, speed: 40, radius: 150, t0: 3 } },
  },
  {
    id: 'h08-snow-walker',
    title: 'a walker in falling snow',
    set: 'train',
    layout: 'garden',
    seed: 38,
    actors: [crossing('person', { t0: 5, y: 135, size: 55, speed: 50, levels: DARK })],
    effects: { snow: 150 },
  },
  // Nothing that should alarm.
  {
    id: 'n01-door-slam',
    title: 'shake: a door slammed, 2.5 s of decaying shake up to 5 px',
    set: 'train',
    layout: 'porch',
    seed: 41,
    actors: [],
    effects: { shake: slam(6, 5) },
  },
  {
    id: 'n02-mast-vibration',
    title: 'shake: the mast vibrating by 2 px all through',
    set: 'validation',
    layout: 'street',
    seed: 42,
    actors: [],
    effects: { shake: vibration(2) },
  },
  {
    id: 'n03-settle-offset',
    title: 'shake: a knock, then the picture stays 3 px off',
    set: 'train',
    layout: 'carpark',
    seed: 43,
    actors: [],
    effects: { shake: (t) => (t < 6 ? [0, 0] : t < 6.6 ? [3 * Math.sin(t * 40), 2] : [3, 2]) },
  },
  {
    id: 'n04-cloud-shadow',
    title: 'a soft cloud shadow sweeping across',
    set: 'train',
    layout: 'garden',
    seed: 44,
    actors: [],
    effects: { cloud: { depth: 0.5, speed: 45, radius: 140, t0: 3 } },
  },
  {
    id: 'n05-fast-cloud',
    title: 'a darker cloud shadow, faster, over the street',
    set: 'validation',
    layout: 'street',
    seed: 45,
    actors: [],
    effects: { cloud: { depth: 0.6, speed: 90, radius: 120, t0: 4 } },
  },
  {
    id: 'n06-branch-shadows',
    title: 'shadows of branches swaying on the garage door',
    set: 'train',
    layout: 'driveway',
    seed: 46,
    actors: [],
    effects: { branches: { region: [60, 15, 230, 95], depth: 0.35, sway: 4 } },
  },
  {
    id: 'n07-headlights-sweep',
    title: 'night: headlights of a car out of view sweep the wall',
    set: 'train',
    layout: 'porch',
    seed: 47,
    actors: [],
    effects: { night: 0.2, noise: 3, headlights: { t0: 6, seconds: 3, strength: 110, y: 80 } },
  },
  {
    id: 'n08-headlights-street',
    title: 'night: headlights sweep the house front twice',
    set: 'validation',
    layout: 'street',
    seed: 48,
    seconds: 20,
    actors: [],
    effects: { night: 0.15, noise: 3, headlights: { t0: 5, seconds: 2.5, strength: 130, y: 60 } },
  },
  {
    id: 'n09-heavy-rain',
    title: 'heavy rain, nothing else',
    set: 'train',
    layout: 'driveway',
    seed: 49,
    actors: [],
    effects: { rain: 160, light: () => ({ gain: 0.8, offset: 12 }) },
  },
  {
    id: 'n10-snow',
    title: 'snow falling, nothing else',
    set: 'validation',
    layout: 'carpark',
    seed: 50,
    actors: [],
    effects: { snow: 200 },
  },
  {
    id: 'n11-foliage-wind',
    title: 'garden: the whole hedge swaying in strong wind',
    set: 'train',
    layout: 'garden',
    seed: 51,
    actors: [],
    effects: { wind: 4 },
  },
  {
    id: 'n12-foliage-porch',
    title: 'porch: a shrub swaying by the door',
    set: 'validation',
    layout: 'porch',
    seed: 52,
    actors: [],
    effects: { wind: 3 },
  },
  {
    id: 'n13-ir-switch',
    title: 'dusk: the IR illuminator switches on (materials change brightness)',
    set: 'train',
    layout: 'garden',
    seed: 53,
    actors: [],
    effects: { irAt: 8, noise: 3 },
  },
  {
    id: 'n14-ir-switch-street',
    title: 'IR on at 6 s, off again at 14 s',
    set: 'validation',
    layout: 'street',
    seed: 54,
    actors: [],
    effects: { irAt: 6, irOff: 14, noise: 3 },
  },
  {
    id: 'n15-night-noise',
    title: 'night: very dark picture, heavy sensor noise',
    set: 'train',
    layout: 'carpark',
    seed: 55,
    actors: [],
    effects: { night: 0.12, noise: 8 },
  },
  {
    id: 'n16-lens-flare',
    title: 'low sun: a flare moving and pulsing, dirt on the lens lit by it',
    set: 'train',
    layout: 'street',
    seed: 56,
    actors: [],
    effects: { flare: { strength: 70 } },
  },
  {
    id: 'n17-lamp',
    title: 'night: a porch lamp switched on and off (local light)',
    set: 'validation',
    layout: 'porch',
    seed: 57,
    actors: [],
    effects: { night: 0.25, noise: 3, lamp: { on: 6, off: 13, cx: 160, cy: 60, r: 110, strength: 90 } },
  },
  {
    id: 'n18-exposure-steps',
    title: 'auto-exposure hunting: three steps of gain',
    set: 'train',
    layout: 'driveway',
    seed: 58,
    actors: [],
    effects: { light: (t) => ({ gain: t < 5 ? 1 : t < 9 ? 1.25 : t < 14 ? 0.8 : 1.1, offset: 0 }) },
  },
];

export interface GeneratedClip {
  spec: ClipSpec;
  frames: Buffer[];
  truth: Interval[];
}

export function generate(spec: ClipSpec): GeneratedClip {
  const { frames, truth } = render(spec);
  return { spec, frames, truth };
}
