import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { OtaError } from './errors.js';

const BLOCK = 512;
const COPY_CHUNK = 1024 * 1024;

export interface TarEntry {
  path: string;
  size: number;
  executable: boolean;
  kind: 'file' | 'directory';
}

export interface ExtractOptions {
  /** fsync each file and directory, so a power cut after extraction cannot leave holes. */
  durable: boolean;
  signal?: AbortSignal;
  maxEntries?: number;
}

/**
 * Unpacks a ustar archive into an empty directory. Only regular files and directories are accepted;
 * links, devices, absolute paths, `..` and GNU/pax extensions are refused, so an image can write
 * nothing outside its slot. Reads by position from the file, one 1 MB buffer at a time.
 */
export async function extractTar(
  archive: string,
  dest: string,
  options: ExtractOptions,
): Promise<TarEntry[]> {
  const source = await open(archive, 'r');
  const entries: TarEntry[] = [];
  const seen = new Set<string>();
  const dirs = new Set<string>([dest]);
  try {
    const total = (await source.stat()).size;
    const header = Buffer.alloc(BLOCK);
    const buffer = Buffer.alloc(COPY_CHUNK);
    let offset = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      if (offset + BLOCK > total) throw bad('archive ends without its end-of-archive blocks');
      await readExactly(source, header, offset);
      offset += BLOCK;
      if (header.every((b) => b === 0)) break;
      const entry = parseHeader(header);
      if (entry.path === '') continue;
      if (entries.length >= (options.maxEntries ?? 10000)) throw bad('too many entries');
      if (seen.has(entry.path)) throw bad(`${entry.path} appears twice`);
      seen.add(entry.path);
      entries.push(entry);
      const target = join(dest, entry.path);
      if (entry.kind === 'directory') {
        await mkdir(target, { recursive: true, mode: 0o755 });
        dirs.add(target);
        continue;
      }
      if (offset + entry.size > total) throw bad(`${entry.path} is cut short`);
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      dirs.add(dirname(target));
      await copyOut(source, offset, entry, target, buffer, options);
      offset += Math.ceil(entry.size / BLOCK) * BLOCK;
    }
    if (options.durable) for (const dir of dirs) await syncPath(dir);
    return entries;
  } finally {
    await source.close();
  }
}

async function copyOut(
  source: FileHandle,
  start: number,
  entry: TarEntry,
  target: string,
  buffer: Buffer,
  options: ExtractOptions,
): Promise<void> {
  const out = await open(target, 'wx', entry.executable ? 0o755 : 0o644);
  try {
    let done = 0;
    while (done < entry.size) {
      options.signal?.throwIfAborted();
      const length = Math.min(buffer.length, entry.size - done);
      const { bytesRead } = await source.read(buffer, 0, length, start + done);
      if (bytesRead !== length) throw bad(`${entry.path} is cut short`);
      await out.write(buffer, 0, length);
      done += length;
    }
    if (options.durable) await out.sync();
  } finally {
    await out.close();
  }
}

async function readExactly(handle: FileHandle, into: Buffer, position: number): Promise<void> {
  const { bytesRead } = await handle.read(into, 0, into.length, position);
  if (bytesRead !== into.length) throw bad('archive is cut short');
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** One 512-byte ustar header; exported for the tests' hand-made hostile headers. */
export function parseHeader(header: Buffer): TarEntry {
  const stored = octal(header, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  if (sum !== stored) throw bad('header checksum mismatch (not a tar archive?)');
  const magic = header.toString('latin1', 257, 263);
  if (magic !== 'ustar\u0000' && magic !== 'ustar ') throw bad('not a ustar archive');
  const type = String.fromCharCode(header[156] ?? 0);
  const name = text(header, 0, 100);
  // The prefix field exists only in POSIX ustar; old GNU headers keep other data there.
  const prefix = magic === 'ustar\u0000' ? text(header, 345, 155) : '';
  const raw = prefix ? `${prefix}/${name}` : name;
  // `tar -C dir .` starts with the archive root itself: nothing to create.
  if (type === '5' && /^(\.\/?)+$/.test(raw))
    return { path: '', size: 0, executable: false, kind: 'directory' };
  const path = safePath(raw);
  const mode = octal(header, 100, 8, 'mode');
  const size = octal(header, 124, 12, 'size');
  if (type === '0' || type === '\u0000' || type === '7') {
    return { path, size, executable: (mode & 0o111) !== 0, kind: 'file' };
  }
  if (type === '5') return { path, size: 0, executable: false, kind: 'directory' };
  throw bad(
    `${path}: entry type ${JSON.stringify(type)} is not allowed (regular files and directories only)`,
  );
}

function text(header: Buffer, start: number, length: number): string {
  const field = header.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end === -1 ? length : end);
}

function octal(header: Buffer, start: number, length: number, what: string): number {
  if (((header[start] ?? 0) & 0x80) !== 0) throw bad(`${what}: base-256 numbers are not supported`);
  const field = text(header, start, length).trim();
  if (!/^[0-7]*$/.test(field)) throw bad(`${what} field is not octal`);
  return field === '' ? 0 : Number.parseInt(field, 8);
}

/** `./a/b` -> `a/b`; refuses absolute paths, `..`, empty names and anything not plain. */
export function safePath(raw: string): string {
  let path = raw;
  while (path.startsWith('./')) path = path.slice(2);
  if (path.endsWith('/')) path = path.slice(0, -1);
  if (path === '' || path === '.') throw bad('entry without a name');
  if (path.startsWith('/')) throw bad(`${raw}: absolute paths are not allowed`);
  const parts = path.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..'))
    throw bad(`${raw}: path must not contain . or ..`);
  if (path.length > 255) throw bad(`${raw}: path too long`);
  return path;
}

function bad(message: string): OtaError {
  return new OtaError('bad_image', message);
}
