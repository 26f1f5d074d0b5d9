import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

const READ_BYTES = 1024 * 1024;

/** Feeds the first `length` bytes of a file into a hash, through one reused 1 MB buffer. */
export async function hashFilePrefix(
  path: string,
  length: number,
  hash: Hash = createHash('sha256'),
): Promise<Hash> {
  if (length === 0) return hash;
  const buffer = Buffer.allocUnsafeSlow(Math.min(READ_BYTES, length));
  const handle = await open(path, 'r');
  try {
    for (let position = 0; position < length; ) {
      const want = Math.min(buffer.length, length - position);
      const { bytesRead } = await handle.read(buffer, 0, want, position);
      if (bytesRead === 0) break; // a shorter file: its size check is the caller's
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return hash;
}

export async function sha256File(path: string, length: number): Promise<string> {
  return (await hashFilePrefix(path, length)).digest('hex');
}
