import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { modulesWhenOnline } from '../helpers/modules-when-online.js';

const BUNDLE = resolve('dist/bundle');
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

// An ESM import of a built-in makes Node read every export of it, lazy getters included: on Node 24,
// `import ... from 'node:http'` alone loads undici and http2 (11 MB RSS). The build turns such imports
// into require() (scripts/build.mjs, builtins-by-require).
describe('the bundle takes Node built-ins with require(), not with ESM import', () => {
  const cloud = useBroker();

  it('no chunk imports a built-in as an ES module, the banner’s node:module aside', async () => {
    const chunks = (await readdir(BUNDLE)).filter((f) => f.endsWith('.js'));
    expect(chunks.length).toBeGreaterThan(5);
    const imported: string[] = [];
    for (const chunk of chunks) {
      const text = await readFile(join(BUNDLE, chunk), 'utf8');
      for (const match of text.matchAll(/\bimport\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']([^"']+)["']/g)) {
        const name = match[1] ?? '';
        if (builtins.has(name)) imported.push(`${chunk}: ${name}`);
      }
    }
    expect(imported.every((entry) => entry.endsWith(': node:module'))).toBe(true);
    expect(imported.length).toBe(chunks.length);
  });

  it('a running daemon has not loaded undici or http2', async () => {
    const loaded = await modulesWhenOnline(cloud.broker.url, cloud.observer);
    expect(loaded).toContain('NativeModule http');
    expect(loaded.filter((name) => /undici|http2/.test(name))).toEqual([]);
  });
});
