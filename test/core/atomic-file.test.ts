import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../../src/core/atomic-file.js';
import { useTempDir } from './fixtures.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const ATOMIC_FILE_SOURCE = pathToFileURL(join(ROOT, 'src', 'core', 'atomic-file.ts')).href;

/**
 * A writer process that rewrites `target` in a loop with writeJsonAtomic and prints "wrote <n>" once
 * it has done `reportAfter` complete writes. The daemon is bundled, so the child loads the module
 * from source through tsx: the very code the tests exercise in-process.
 */
const WRITER = `
import { writeJsonAtomic } from ${JSON.stringify(ATOMIC_FILE_SOURCE)};
const target = process.env.TARGET;
const reportAfter = Number(process.env.REPORT_AFTER);
for (let i = 0; ; i += 1) {
  await writeJsonAtomic(target, { n: i, pad: 'x'.repeat(100000) });
  if (i + 1 === reportAfter) process.stdout.write('wrote ' + (i + 1) + '\\n');
}
`;

const writers: ChildProcess[] = [];

function startWriter(target: string, reportAfter: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER], {
    cwd: ROOT,
    env: { ...process.env, TARGET: target, REPORT_AFTER: String(reportAfter) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  writers.push(child);
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const line = once(createInterface({ input: child.stdout }), 'line') as Promise<[string]>;
  // The first line it prints, or why it printed none.
  const reported = Promise.race([
    line.then(([text]) => text),
    closed.then(([code, signal]) => `exited early (${code ?? signal}): ${stderr.join('')}`),
  ]);
  return { child, stderr, closed, reported };
}

describe('atomic files', () => {
  const tempDir = useTempDir('ipcam-atomic');
  // Registered last so it runs first (hooks stack): a failed test must not leave a writer running.
  afterEach(async () => {
    const alive = writers.splice(0).filter((child) => child.exitCode === null && child.signalCode === null);
    await Promise.all(
      alive.map((child) => {
        const closed = once(child, 'close');
        child.kill('SIGKILL');
        return closed;
      }),
    );
  });

  it('writeFileAtomic writes the content with mode 0600 and leaves no temp file', async () => {
    const dir = await tempDir();
    const target = join(dir, 'nested', 'state.json');
    await writeFileAtomic(target, 'first');
    await writeFileAtomic(target, 'second');

    expect(await readFile(target, 'utf8')).toBe('second');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'nested'))).toEqual(['state.json']);
  });

  it('writeFileAtomic honours an explicit mode and accepts bytes', async () => {
    const dir = await tempDir();
    const target = join(dir, 'blob.bin');
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]), 0o640);
    expect([...(await readFile(target))]).toEqual([1, 2, 3]);
    expect((await stat(target)).mode & 0o777).toBe(0o640);
  });

  it('writeJsonAtomic and readJsonFile round-trip a value', async () => {
    const dir = await tempDir();
    const target = join(dir, 'value.json');
    await writeJsonAtomic(target, { a: 1, list: ['x', { y: true }] });
    expect(await readJsonFile(target)).toEqual({ a: 1, list: ['x', { y: true }] });
    expect(await readdir(dir)).toEqual(['value.json']);
  });

  it('readJsonFile returns undefined for a missing file and propagates other errors', async () => {
    const dir = await tempDir();
    expect(await readJsonFile(join(dir, 'absent.json'))).toBeUndefined();
    await writeFile(join(dir, 'broken.json'), '{"half":');
    await expect(readJsonFile(join(dir, 'broken.json'))).rejects.toBeInstanceOf(SyntaxError);
    await expect(readJsonFile(dir)).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it.each([1, 4, 12])(
    'leaves a complete JSON file when the writer is SIGKILLed after %i writes',
    async (reportAfter) => {
      const dir = await tempDir();
      const target = join(dir, 'big.json');
      const writer = startWriter(target, reportAfter);
      expect(await writer.reported).toBe(`wrote ${reportAfter}`);

      writer.child.kill('SIGKILL');
      const [code, signal] = await writer.closed;
      expect({ code, signal, stderr: writer.stderr.join('') }).toEqual({
        code: null,
        signal: 'SIGKILL',
        stderr: '',
      });

      const value = JSON.parse(await readFile(target, 'utf8')) as { n: number; pad: string };
      expect(Object.keys(value).sort()).toEqual(['n', 'pad']);
      expect(value.n).toBeGreaterThanOrEqual(reportAfter - 1);
      expect(value.pad).toHaveLength(100000);
      expect(value.pad).toMatch(/^x+$/);
    },
  );

  it('never lets a concurrent reader see a partial file while another process rewrites it', async () => {
    const dir = await tempDir();
    const target = join(dir, 'big.json');
    const writer = startWriter(target, 50);
    let done = false;
    void writer.reported.then(() => {
      done = true;
    });
    let complete = 0;
    const partial: string[] = [];
    // Read as fast as possible until the writer has done 50 rewrites; a plain writeFile fails this.
    while (!done) {
      const text = await readFile(target, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (text === undefined) continue;
      try {
        const value = JSON.parse(text) as { pad: string };
        if (value.pad.length === 100000) complete += 1;
        else partial.push(text.slice(0, 40));
      } catch {
        partial.push(`${text.length} bytes: ${text.slice(0, 40)}`);
      }
    }
    expect(await writer.reported).toBe('wrote 50');
    writer.child.kill('SIGKILL');
    await writer.closed;
    expect(partial).toEqual([]);
    expect(complete).toBeGreaterThan(0);
  });
});
