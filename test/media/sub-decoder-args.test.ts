import { describe, expect, it } from 'vitest';
import { subDecoderArgs } from '../../src/media/sub-decoder.js';

describe('subDecoderArgs', () => {
  const analysis = { width: 320, height: 180, fps: 15 };
  const table = [
    { inputFps: 25, filter: 'fps=15,scale=320:180' },
    { inputFps: 15, filter: 'fps=15,scale=320:180' },
    // A 10 fps sub stream gives 10 analysis frames a second, not 15 with every second one repeated.
    { inputFps: 10, filter: 'fps=10,scale=320:180' },
  ];
  for (const { inputFps, filter } of table) {
    it(`analysis at ${analysis.fps} fps from a ${inputFps} fps stream: ${filter}`, () => {
      const args = subDecoderArgs(analysis, inputFps);
      expect(args[args.indexOf('-vf') + 1]).toBe(filter);
      expect(args[args.indexOf('-framerate') + 1]).toBe(String(inputFps));
    });
  }
});
