import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsedTokens } from '../../src/webrtc/replay.js';
import { useTempDir } from '../core/fixtures.js';

describe('used viewer tokens on disk', () => {
  const tempDir = useTempDir('used-tokens');

  it('a damaged file is set aside and every token issued before then is refused, also after a restart', async () => {
    const path = join(await tempDir(), 'used-tokens.json');
    await writeFile(path, '{"a":17');
    const now = Date.now();
    const iatBefore = Math.floor(now / 1000) - 10;
    const tokens = new UsedTokens(path);
    await tokens.load();
    expect(existsSync(`${path}.bad`)).toBe(true);
    expect(await tokens.use('replayed-maybe', iatBefore + 300, now, iatBefore)).toBe(false);
    expect(await tokens.use('issued-after', iatBefore + 400, now + 2000, Math.ceil(now / 1000) + 1)).toBe(
      true,
    );

    const again = new UsedTokens(path);
    await again.load();
    expect(await again.use('another-old-one', iatBefore + 300, now, iatBefore)).toBe(false);
    expect(await again.use('issued-after', iatBefore + 400, now + 3000, Math.ceil(now / 1000) + 1)).toBe(
      false,
    );
  });

  it('reads the first format (a plain map of ids) and refuses its ids again', async () => {
    const path = join(await tempDir(), 'used-tokens.json');
    const exp = Math.floor(Date.now() / 1000) + 300;
    await writeFile(path, JSON.stringify({ 'old-id': exp }));
    const tokens = new UsedTokens(path);
    await tokens.load();
    expect(await tokens.use('old-id', exp, Date.now(), exp - 300)).toBe(false);
    expect(await tokens.use('new-id', exp, Date.now(), exp - 300)).toBe(true);
  });
});
