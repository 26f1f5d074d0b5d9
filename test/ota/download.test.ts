import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DownloadOptions, download } from '../../src/ota/download.js';
import { OtaError } from '../../src/ota/errors.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { ImageServer } from './helpers/image-server.js';

describe('HTTPS download with resume', () => {
  let pki: Pki;
  let server: ImageServer;
  let dir: string;
  let ca: Buffer;
  const body = randomBytes(3 * 1024 * 1024 + 123);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const options = (file: string, url: string, size = body.length): DownloadOptions => ({
    url,
    size,
    file,
    ca,
    stallTimeoutMs: 2000,
    retryInitialMs: 10,
    retryMaxMs: 50,
    maxAttempts: 3,
    signal: new AbortController().signal,
  });

  beforeAll(async () => {
    pki = await makePki('unused');
    server = await ImageServer.start(pki.serverCert, pki.serverKey);
    ca = await readFile(pki.caCert);
    dir = await mkdtemp(join(tmpdir(), 'dl-'));
    await writeFile(join(dir, 'image.bin'), body);
  });
  afterAll(async () => {
    await server.close();
  });

  it('after a restart, hashes what is on disk and asks only for the rest', async () => {
    const url = server.serve('/resume.bin', join(dir, 'image.bin'));
    const part = join(dir, 'resume.part');
    await writeFile(part, body.subarray(0, 1_000_000));
    const result = await download(options(part, url));
    expect(result).toEqual({ sha256, resumedFrom: 1_000_000 });
    expect(server.requests.filter((r) => r.path === '/resume.bin').map((r) => r.range)).toEqual([
      'bytes=1000000-',
    ]);
    expect((await readFile(part)).equals(body)).toBe(true);
  });

  it('stops as soon as the server sends more than the job says', async () => {
    const url = server.serve('/longer.bin', join(dir, 'image.bin'));
    const err = await download(options(join(dir, 'short.part'), url, 1000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OtaError);
    expect((err as OtaError).reason).toBe('size_mismatch');
  });

  it('fails with download_failed on a 404, without retrying', async () => {
    const err = await download(options(join(dir, 'missing.part'), server.url('/missing.bin'))).catch(
      (e: unknown) => e,
    );
    expect((err as OtaError).reason).toBe('download_failed');
    expect(server.requests.filter((r) => r.path === '/missing.bin')).toHaveLength(1);
  });

  it('retries a connection cut before its first byte', async () => {
    const url = server.serve('/dead.bin', join(dir, 'image.bin'), { cutAfter: 0 });
    const result = await download(options(join(dir, 'dead.part'), url));
    expect(result.sha256).toBe(sha256);
    expect(server.requests.filter((r) => r.path === '/dead.bin').length).toBe(2);
  });
});
