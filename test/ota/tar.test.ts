import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { OtaError } from '../../src/ota/errors.js';
import { extractTar } from '../../src/ota/tar.js';

const run = promisify(execFile);

/** One ustar header, written field by field as POSIX describes it, for archives tar would not make. */
function header(
  name: string,
  options: { type?: string; size?: number; mode?: number; link?: string } = {},
): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write(`${(options.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${(options.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block.write(options.type ?? '0', 156, 'latin1');
  if (options.link) block.write(options.link, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

function archive(entries: { name: string; body?: string; type?: string; link?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    parts.push(header(entry.name, { type: entry.type, size: body.length, link: entry.link }));
    if (body.length) parts.push(Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

async function extract(bytes: Buffer): Promise<{ dest: string; result: Promise<unknown> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tar-'));
  const file = join(dir, 'image.tar');
  await writeFile(file, bytes);
  const dest = join(dir, 'slot');
  await mkdir(dest);
  return { dest, result: extractTar(file, dest, { durable: false }) };
}

async function refused(bytes: Buffer): Promise<{ message: string; dest: string }> {
  const { dest, result } = await extract(bytes);
  const err = await result.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OtaError);
  expect((err as OtaError).reason).toBe('bad_image');
  return { message: (err as OtaError).message, dest };
}

describe('safe ustar extraction', () => {
  it('unpacks what GNU tar --format=ustar writes: files, directories, the executable bit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tar-src-'));
    await mkdir(join(dir, 'root', 'bin'), { recursive: true });
    await writeFile(join(dir, 'root', 'manifest.json'), '{"version":"1.5.0","versionCode":10500}');
    await writeFile(join(dir, 'root', 'bin', 'agent'), '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(join(dir, 'root', 'big.bin'), Buffer.alloc(3 * 1024 * 1024 + 17, 7));
    await run('tar', ['--format=ustar', '-cf', join(dir, 'image.tar'), '-C', join(dir, 'root'), '.']);
    const dest = join(dir, 'slot');
    await mkdir(dest);
    const entries = await extractTar(join(dir, 'image.tar'), dest, { durable: true });
    expect(entries.map((e) => e.path).sort()).toEqual(['big.bin', 'bin', 'bin/agent', 'manifest.json']);
    expect(await readFile(join(dest, 'manifest.json'), 'utf8')).toContain('10500');
    expect((await stat(join(dest, 'big.bin'))).size).toBe(3 * 1024 * 1024 + 17);
    expect((await stat(join(dest, 'bin', 'agent'))).mode & 0o111).not.toBe(0);
  });

  it('refuses paths that leave the slot', async () => {
    expect((await refused(archive([{ name: '/etc/passwd', body: 'x' }]))).message).toContain('absolute');
    const { message, dest } = await refused(
      archive([
        { name: 'ok.txt', body: 'x' },
        { name: 'a/../../evil', body: 'x' },
      ]),
    );
    expect(message).toContain('..');
    expect(await readdir(join(dest, '..'))).not.toContain('evil');
  });

  it('refuses links and devices, so a later file cannot be written through a link', async () => {
    expect((await refused(archive([{ name: 'etc', type: '2', link: '/etc' }]))).message).toContain(
      'not allowed',
    );
    expect((await refused(archive([{ name: 'hard', type: '1', link: 'x' }]))).message).toContain(
      'not allowed',
    );
    expect((await refused(archive([{ name: 'dev', type: '3' }]))).message).toContain('not allowed');
  });

  it('refuses a damaged header, a cut-short archive and a duplicate name', async () => {
    const damaged = archive([{ name: 'a.txt', body: 'hello' }]);
    damaged[10] = 0x41;
    expect((await refused(damaged)).message).toContain('checksum');
    const whole = archive([{ name: 'a.txt', body: 'x'.repeat(2000) }]);
    expect((await refused(whole.subarray(0, 1024))).message).toContain('cut short');
    expect(
      (
        await refused(
          archive([
            { name: 'a', body: '1' },
            { name: 'a', body: '2' },
          ]),
        )
      ).message,
    ).toContain('twice');
  });
});
