import { configDefaults, defineConfig } from 'vitest/config';
import { RUN_ALONE } from './vitest.alone.config.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Run afterwards by vitest.alone.config.ts (npm test runs both).
    exclude: [...configDefaults.exclude, ...RUN_ALONE],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60000,
    hookTimeout: 30000,
    pool: 'forks',
    maxWorkers: 3,
  },
});
