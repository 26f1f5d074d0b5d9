import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MediaConfig } from '../../src/media/config.js';
import { buildCaptureArgs } from '../../src/media/ffmpeg-args.js';
import { defaultSettings, mergeDesired } from '../../src/settings/apply.js';

const defaults = Value.Default(MediaConfig, {}) as MediaConfig;

/** Numbers a confused or hostile cloud may send for a profile field. */
const number = fc.oneof(
  fc.integer({ min: -10, max: 9000 }),
  fc.constantFrom(
    0,
    1,
    89,
    90,
    91,
    159,
    160,
    161,
    2159,
    2160,
    2161,
    3839,
    3840,
    3841,
    60,
    61,
    63,
    64,
    20000,
    20001,
  ),
  fc.double({ noNaN: false }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -0, 1e308),
);
const value = fc.oneof(number, fc.string({ maxLength: 8 }), fc.constant(null), fc.boolean());
const profile = fc.record(
  { width: value, height: value, fps: value, bitrateKbps: value, extra: value },
  { requiredKeys: [] },
);

describe('stream profiles from desired state, hostile input (seeded)', () => {
  it('whatever is accepted gives ffmpeg sizes, rates and bitrates it takes', () => {
    let tried = 0;
    let accepted = 0;
    fc.assert(
      fc.property(fc.record({ main: profile, sub: profile }, { requiredKeys: [] }), (stream) => {
        tried += 1;
        const { settings, applied, rejected } = mergeDesired(defaultSettings(), { stream });
        if (applied.length === 0) {
          expect(rejected).toHaveLength(1);
          expect(rejected[0]?.key).toMatch(/^stream(\.|$)/);
          return;
        }
        accepted += 1;
        for (const p of [settings.stream.main, settings.stream.sub]) {
          expect(p.width % 2 === 0 && p.width >= 160 && p.width <= 3840).toBe(true);
          expect(p.height % 2 === 0 && p.height >= 90 && p.height <= 2160).toBe(true);
          expect(Number.isInteger(p.fps) && p.fps >= 1 && p.fps <= 60).toBe(true);
          expect(Number.isInteger(p.bitrateKbps) && p.bitrateKbps >= 64 && p.bitrateKbps <= 20000).toBe(true);
        }
        const args = buildCaptureArgs({
          source: defaults.source,
          audio: defaults.audio,
          encoder: defaults.encoder,
          analysis: defaults.analysis,
          gopSeconds: defaults.gopSeconds,
          main: settings.stream.main,
          sub: settings.stream.sub,
        });
        const graph = args[args.indexOf('-filter_complex') + 1] ?? '';
        for (const [, w, h] of graph.matchAll(/scale=(\d+):(\d+)/g)) {
          expect(Number(w) % 2).toBe(0);
          expect(Number(h) % 2).toBe(0);
        }
      }),
      { numRuns: 3000, seed: 20261205 },
    );
    console.log(`stream profiles: ${tried} documents tried, ${accepted} accepted, crashes: 0`);
    expect(accepted).toBeGreaterThan(0);
  });
});
