import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
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
  /** Node's own HTTPS server, for what ImageServer does not do: chunked bodies and redirects. */
  let node: Server;
  let nodeUrl: string;
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
    const [cert, key] = await Promise.all([readFile(pki.serverCert), readFile(pki.serverKey)]);
    node = createServer({ cert, key }, (req, res) => {
      if (req.url === '/chunked.bin') {
        // No Content-Length: Node sends Transfer-Encoding: chunked, in pieces of odd sizes.
        res.writeHead(200);
        for (let i = 0; i < body.length; i += 70_001) res.write(body.subarray(i, i + 70_001));
        res.end();
      } else if (req.url === '/moved.bin') {
        res.writeHead(302, { location: server.url('/resume.bin') }).end();
      } else if (req.url === '/plain.bin') {
        res.writeHead(301, { location: 'http://127.0.0.1:1/plain.bin' }).end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((done) => node.listen(0, '127.0.0.1', done));
    // localhost, not 127.0.0.1: the name is sent as SNI and checked against the certificate.
    nodeUrl = `https://localhost:${(node.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    node.closeAllConnections();
    await new Promise((done) => node.close(done));
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

  it('reads a chunked body from a server that sends no Content-Length', async () => {
    const part = join(dir, 'chunked.part');
    expect(await download(options(part, `${nodeUrl}/chunked.bin`))).toEqual({ sha256, resumedFrom: 0 });
    expect((await readFile(part)).equals(body)).toBe(true);
  });

  it('follows an https redirect, and refuses one to http', async () => {
    server.serve('/resume.bin', join(dir, 'image.bin'));
    const result = await download(options(join(dir, 'moved.part'), `${nodeUrl}/moved.bin`));
    expect(result.sha256).toBe(sha256);
    const err = await download(options(join(dir, 'plain.part'), `${nodeUrl}/plain.bin`)).catch(
      (e: unknown) => e,
    );
    expect((err as OtaError).reason).toBe('insecure_url');
  });

  it('resumes with Range after a cut in the middle of the body, and after a stall', async () => {
    const cut = server.serve('/cut.bin', join(dir, 'image.bin'), { cutAfter: 1_500_000 });
    const cutPart = join(dir, 'cut.part');
    expect((await download(options(cutPart, cut))).sha256).toBe(sha256);
    expect((await readFile(cutPart)).equals(body)).toBe(true);
    const ranges = server.requests.filter((r) => r.path === '/cut.bin').map((r) => r.range);
    expect(ranges).toHaveLength(2);
    expect(Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1])).toBeGreaterThan(0);

    const held = server.serve('/held.bin', join(dir, 'image.bin'), { holdAfter: 700_000 });
    const result = await download({ ...options(join(dir, 'held.part'), held), stallTimeoutMs: 300 });
    expect(result.sha256).toBe(sha256);
    expect(server.requests.filter((r) => r.path === '/held.bin')[1]?.range).toMatch(/^bytes=\d+-$/);
  });

  it('stops at once when aborted, and refuses a server its CA does not vouch for', async () => {
    const url = server.serve('/stuck.bin', join(dir, 'image.bin'), { holdAfter: 100_000 });
    const abort = new AbortController();
    const pending = download({ ...options(join(dir, 'stuck.part'), url), signal: abort.signal }).catch(
      (e: unknown) => e,
    );
    await server.waitForRequest((r) => r.path === '/stuck.bin');
    abort.abort();
    expect(((await pending) as Error).name).toBe('AbortError');
    server.release();

    const err = await download({
      ...options(join(dir, 'untrusted.part'), server.url('/resume.bin')),
      ca: undefined,
    }).catch((e: unknown) => e);
    expect((err as OtaError).reason).toBe('tls_untrusted');
  });

  it('keeps memory flat: 64 MB cost less than 16 MB of RSS (node:https left ~32 MB of dead buffers)', async () => {
    // In its own process (the bench's child), so that the peak RSS is the download's alone.
    const size = 64 * 1024 * 1024;
    const big = join(dir, 'big.bin');
    const hash = createHash('sha256');
    const handle = await open(big, 'w');
    for (let i = 0; i < size; i += 4 * 1024 * 1024) {
      const chunk = randomBytes(4 * 1024 * 1024);
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.close();
    const url = server.serve('/big.bin', big);
    const warm = server.serve('/warm.bin', join(dir, 'image.bin'));
    const child = resolve(import.meta.dirname, '../../bench/ota-download-child.ts');
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      child,
      url,
      String(size),
      hash.digest('hex'),
      pki.caCert,
      join(dir, 'big.part'),
      warm,
      String(body.length),
    ]);
    await rm(big);
    const r = JSON.parse(stdout) as { ok: boolean; warmKb: number; peakKb: number };
    expect(r.ok).toBe(true);
    expect((r.peakKb - r.warmKb) / 1024).toBeLessThan(16);
  });
});
