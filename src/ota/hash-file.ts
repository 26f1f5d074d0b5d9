import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Feeds the first `length` bytes of a file into a hash, 1 MB at a time. */
export async function hashFilePrefix(
  path: string,
  length: number,
  hash: Hash = createHash('sha256'),
): Promise<Hash> {
  if (length === 0) return hash;
  const stream = createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash;
}

export async function sha256File(path: string, length: number): Promise<string> {
  return (await hashFilePrefix(path, length)).digest('hex');
}
