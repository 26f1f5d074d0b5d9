import { defineConfig } from 'vitest/config';

/**
 * Suites that judge real-time behaviour of several simulators at once and so need the machine to
 * themselves: the motion scenes end to end play four cameras in real time, and next to two other
 * workers on a 2-core CI machine their analysis frames were held up and came in bursts, which moved a
 * marginal scene (the cloud shadow) over the line (bench/motion-stalls.ts measures that margin).
 */
export const RUN_ALONE = ['test/motion/sim-scenes.test.ts'];

export default defineConfig({
  test: {
    include: RUN_ALONE,
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60000,
    hookTimeout: 30000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
