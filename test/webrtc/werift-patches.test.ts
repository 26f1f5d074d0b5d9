import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a build script in plain JavaScript, without types
import { patchWerift, WERIFT_PATCHES } from '../../scripts/werift-patches.mjs';
import { ROOT } from '../helpers/daemon.js';
import { handshake, type Werift } from './helpers/dtls-handshake.js';

const weriftDir = join(dirname(createRequire(import.meta.url).resolve('werift')), '..', '..', '..');
const patchedFile = join(weriftDir, 'lib', `index.patched-test-${process.pid}.mjs`);

describe('werift patches the daemon carries (scripts/werift-patches.mjs)', () => {
  afterAll(async () => {
    await rm(patchedFile, { force: true });
  });

  it('each applies to this werift exactly once', async () => {
    const source = await readFile(join(weriftDir, 'lib', 'index.mjs'), 'utf8');
    const patched: string = patchWerift(source);
    for (const patch of WERIFT_PATCHES as { find: string; replace: string }[]) {
      expect(patched).not.toContain(patch.find);
      expect(patched).toContain(patch.replace);
    }
    expect(() => patchWerift('no werift here')).toThrow(/found 0 times/);
  });

  it('a DTLS client whose server answers 0.6 s late: fails unpatched, connects patched', async () => {
    const stock = (await import('werift')) as Werift;
    // The patched build beside the stock one, so that its bare imports resolve the same way.
    await writeFile(patchedFile, patchWerift(await readFile(join(weriftDir, 'lib', 'index.mjs'), 'utf8')));
    const patched = (await import(pathToFileURL(patchedFile).href)) as Werift;
    expect(await handshake(stock, 0)).toBe('connected');
    expect(await handshake(stock, 600)).toMatch(/^client failed/);
    expect(await handshake(patched, 600)).toBe('connected');
    expect(await handshake(patched, 1500)).toBe('connected');
  }, 30_000);

  it('is what the daemon’s bundle carries', async () => {
    const bundle = join(ROOT, 'dist', 'bundle');
    const chunks = await Promise.all(
      (await readdir(bundle)).filter((f) => f.endsWith('.js')).map((f) => readFile(join(bundle, f), 'utf8')),
    );
    const all = chunks.join('\n');
    // Written without whitespace.
    expect(all).toContain('if(this.dtls.flight>=3)return;');
    expect(all).not.toContain('if(this.dtls.flight===3)throw new Error();');
  });
});
