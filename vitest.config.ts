import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60000,
    hookTimeout: 30000,
    pool: 'forks',
    maxWorkers: 3,
  },
});
