#!/usr/bin/env node
// Builds the daemon into dist/bundle/: one ESM entry plus lazily loaded chunks, with every npm
// dependency inside. Loading one file instead of hundreds halves start-up time, and a camera image
// then needs only bin/ and dist/bundle/, no node_modules. Type checking is `npm run typecheck`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

await build({
  entryPoints: [join(root, 'src', 'main.ts')],
  outdir: join(root, 'dist', 'bundle'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  loader: { '.html': 'text' },
  define: { __IPCAM_AGENT_VERSION__: JSON.stringify(version) },
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});
