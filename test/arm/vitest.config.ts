import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The packaged daemon under qemu-user (scripts/prove-package.sh): not part of `npm test`, since it needs
 * the archive from `npm run package` and Debian's multiarch packages, and runs about ten times slower.
 */
export default defineConfig({
  root: resolve(import.meta.dirname, '..', '..'),
  test: {
    include: ['test/arm/**/*.qemu.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
