#!/usr/bin/env node
// Builds the daemon into dist/bundle/: one ESM entry plus lazily loaded chunks, with every npm
// dependency inside. Loading one file instead of hundreds halves start-up time, and a camera image
// then needs only bin/ and dist/bundle/, no node_modules. Type checking is `npm run typecheck`.
import { readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { MQTT_PATCHED_FILES, patchMqtt } from './mqtt-patches.mjs';
import { buildAddons } from './native.mjs';
import { PECULIAR_X509_STUB, patchWerift } from './werift-patches.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/**
 * Node's built-in modules are loaded with require(), not by an ESM `import`. An ESM import of a built-in
 * makes Node build its ESM facade, which reads every export, lazy getters included: on Node 24 that
 * loads undici and http2 for `node:http` alone (11 MB RSS more, measured with `import` against
 * `process.getBuiltinModule`), and more for `node:fs` and `node:util`. require() returns the module as it
 * is and its getters run only when used. Each `import` of a built-in becomes a small CommonJS module
 * that requires it (the banner gives the bundle its require()).
 */
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    const names = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    b.onResolve({ filter: /^(node:)?[a-z_/0-9]+$/ }, (args) => {
      if (args.kind !== 'import-statement' || !names.has(args.path)) return undefined;
      return { path: args.path.replace(/^node:/, ''), namespace: 'builtin-by-require' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin-by-require' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`,
      loader: 'js',
    }));
  },
};

// Chunk names carry content hashes: without this, every build would leave the last one's chunks behind.
rmSync(join(root, 'dist', 'bundle'), { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'src', 'main.ts')],
  outdir: join(root, 'dist', 'bundle'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Without comments and indentation the daemon holds a third less source text, and all of it ASCII:
  // V8 keeps a file with one non-ASCII character (a `µ` or `—` in a comment) as two bytes per
  // character. Measured (bench/memory.ts, docs/deployment.md): werift's chunk costs 3.5 MB less RSS
  // once loaded. Names are kept (no minifyIdentifiers), so stack traces still read; the source maps
  // map them back. Licence comments go to *.LEGAL.txt beside the chunks.
  minifyWhitespace: true,
  legalComments: 'external',
  logLevel: 'warning',
  loader: { '.html': 'text' },
  plugins: [
    builtinsByRequire,
    {
      name: 'werift-patches',
      setup(b) {
        b.onLoad({ filter: /[\\/]node_modules[\\/]werift[\\/]lib[\\/]index\.mjs$/ }, (args) => ({
          contents: patchWerift(readFileSync(args.path, 'utf8')),
          loader: 'js',
        }));
        b.onResolve({ filter: /^@peculiar\/x509$/ }, () => ({
          path: 'x509',
          namespace: 'peculiar-x509-stub',
        }));
        b.onLoad({ filter: /.*/, namespace: 'peculiar-x509-stub' }, () => ({
          contents: PECULIAR_X509_STUB,
          loader: 'js',
        }));
      },
    },
    {
      name: 'mqtt-patches',
      setup(b) {
        b.onLoad(
          { filter: /[\\/]node_modules[\\/]mqtt[\\/]build[\\/]lib[\\/]connect[\\/]\w+\.js$/ },
          (args) => {
            const file = args.path.split(/[\\/]/).slice(-2).join('/');
            if (!MQTT_PATCHED_FILES.includes(file)) return undefined;
            return { contents: patchMqtt(file, readFileSync(args.path, 'utf8')), loader: 'js' };
          },
        );
      },
    },
  ],
  define: { __IPCAM_AGENT_VERSION__: JSON.stringify(version) },
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});

// The addons for this machine's architecture; the daemon works without them (dgram for RTP over UDP,
// the TypeScript motion loops).
const nativeDir = join(root, 'dist', 'native');
rmSync(nativeDir, { recursive: true, force: true });
for (const [name, notBuilt] of Object.entries(buildAddons('cc', nativeDir))) {
  if (notBuilt)
    process.stderr.write(`build: ${name} addon not built (${notBuilt}); the daemon runs without it\n`);
}
