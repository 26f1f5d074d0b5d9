import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/logger.js';
import type { StreamName } from '../../media/types.js';
import { type Credentials, DigestAuthenticator, NonceBook } from '../../rtsp/digest.js';
import { compactIso } from '../naming.js';
import type { RecordingReader } from '../reader.js';
import { downloadBytes, planDownload } from './download.js';
import { MAX_PLAYBACK_RANGE_MS, parsePlaybackTime } from './time.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface DownloadHandlerOptions {
  /** Where it answers; other paths are left to the server (the handler returns false). */
  path?: string;
  /** The recordings, while the card is usable; undefined answers 503. */
  reader: () => RecordingReader | undefined;
  /** The RTSP credentials (HTTP Digest, same realm as RTSP). */
  credentials: () => Credentials;
  /** The key signed URLs are checked with (see signDownloadQuery). */
  signingKey: () => Promise<Buffer>;
  log: Logger;
}

export const DOWNLOAD_PATH = '/recordings/download';
/** A signed URL lives at most this long, whatever its `expires` says. */
export const MAX_SIGNED_TTL_SECONDS = 24 * 3600;
/** Peers whose Digest nonces are kept at once; the oldest peer's are forgotten first. */
const MAX_NONCE_PEERS = 64;

/** The HMAC of a signed download URL: the range, the stream and the expiry are all in it. */
function signature(key: Buffer, start: string, end: string, stream: string, expires: number): string {
  return createHmac('sha256', key).update(`download\n${start}\n${end}\n${stream}\n${expires}`).digest('hex');
}

/**
 * The query of a signed, short-lived download URL for [start, end) of `stream`: whoever has it may
 * fetch that range, and nothing else, until it expires.
 */
export function signDownloadQuery(
  key: Buffer,
  range: { start: number; end: number; stream: StreamName },
  ttlSeconds: number,
  now = Date.now(),
): string {
  const expires = Math.floor(now / 1000) + Math.min(Math.max(1, ttlSeconds), MAX_SIGNED_TTL_SECONDS);
  const start = compactIso(range.start);
  const end = compactIso(range.end);
  const sig = signature(key, start, end, range.stream, expires);
  return new URLSearchParams({ start, end, stream: range.stream, expires: String(expires), sig }).toString();
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range); 'unsatisfiable', or undefined for the whole file. */
export function parseByteRange(
  header: string | undefined,
  size: number,
): { first: number; last: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m) return undefined; // several ranges or another unit: the whole file (RFC 9110 14.2)
  const [a, b] = [m[1] ?? '', m[2] ?? ''];
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { first: Math.max(0, size - n), last: size - 1 };
  }
  const first = Number(a);
  const last = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (first >= size || last < first) return 'unsatisfiable';
  return { first, last };
}

/**
 * HTTP download of a recorded time range as one MP4 (download.ts), for any `node:http` server:
 * `GET|HEAD <path>?start=<ISO>&end=<ISO>[&stream=main|sub]` with HTTP Digest (the RTSP credentials),
 * or with `&expires=<unix s>&sig=<hex>` from signDownloadQuery. Single byte ranges answer 206, so a
 * `<video>` can seek. Returns false for requests that are not its own.
 */
export function createDownloadHandler(options: DownloadHandlerOptions): RequestHandler {
  const path = options.path ?? DOWNLOAD_PATH;
  const log = options.log.child({ module: 'recording-download' });
  const auth = new DigestAuthenticator({ realm: 'ipcam-agent' });
  const books = new Map<string, NonceBook>();
  let failures = 0;
  const bookOf = (peer: string): NonceBook => {
    let book = books.get(peer);
    if (book) {
      books.delete(peer);
    } else {
      book = new NonceBook();
      if (books.size >= MAX_NONCE_PEERS) books.delete(books.keys().next().value as string);
    }
    books.set(peer, book);
    return book;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const text = (status: number, body: string, headers: Record<string, string | string[]> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain', 'cache-control': 'no-store', ...headers });
      res.end(`${body}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return text(405, 'GET or HEAD only', { allow: 'GET, HEAD' });
    const q = url.searchParams;
    const start = parsePlaybackTime(q.get('start'));
    const end = parsePlaybackTime(q.get('end'));
    const stream = q.get('stream') ?? 'main';
    if (start === undefined || end === undefined || end <= start || end - start > MAX_PLAYBACK_RANGE_MS)
      return text(400, 'start and end must be ISO 8601 times with start < end, at most 31 days apart');
    if (stream !== 'main' && stream !== 'sub') return text(400, 'stream must be main or sub');

    const sig = q.get('sig');
    if (sig !== null) {
      const expires = Number(q.get('expires'));
      const key = await options.signingKey();
      const expected = signature(key, q.get('start') ?? '', q.get('end') ?? '', stream, expires);
      const valid =
        /^[0-9a-f]{64}$/.test(sig) &&
        Number.isInteger(expires) &&
        timingSafeEqual(Buffer.from(sig, 'hex'), Buffer.from(expected, 'hex'));
      if (!valid) return text(403, 'bad signature');
      const now = Date.now() / 1000;
      if (expires < now) return text(403, 'this link has expired');
      if (expires > now + MAX_SIGNED_TTL_SECONDS) return text(403, 'bad expiry');
    } else {
      const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      const book = bookOf(peer);
      const result = auth.verify(
        { method: req.method, uri: req.url ?? '' },
        req.headers.authorization,
        options.credentials(),
        book,
      );
      if (result !== 'ok') {
        if (result === 'invalid' && failures++ % 100 === 0)
          log.warn({ remote: peer, failures }, 'recording download: authentication failed');
        return text(401, 'authentication required', {
          'www-authenticate': auth.challenge(book, result === 'stale'),
        });
      }
    }

    const reader = options.reader();
    if (!reader) return text(503, 'the SD card is not usable', { 'retry-after': '10' });
    const plan = await planDownload(reader, start, end, stream, (p, err) =>
      log.warn({ path: p, err }, 'recording download: a segment could not be read'),
    );
    if (!plan) return text(404, 'nothing recorded in that range');
    const range = parseByteRange(req.headers.range, plan.size);
    const headers: Record<string, string> = {
      'content-type': 'video/mp4',
      'accept-ranges': 'bytes',
      'cache-control': 'no-store',
      'content-disposition': `inline; filename="${compactIso(plan.startMs)}-${compactIso(plan.endMs)}.mp4"`,
      'x-recording-start': new Date(plan.startMs).toISOString(),
      'x-recording-end': new Date(plan.endMs).toISOString(),
    };
    if (range === 'unsatisfiable')
      return text(416, 'range not satisfiable', { 'content-range': `bytes */${plan.size}` });
    const first = range?.first ?? 0;
    const last = range?.last ?? plan.size - 1;
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'content-length': String(last - first + 1),
      ...(range ? { 'content-range': `bytes ${first}-${last}/${plan.size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    let gone = false;
    res.once('close', () => {
      gone = true;
    });
    for await (const chunk of downloadBytes(reader, plan, first, last)) {
      if (gone) break;
      if (!res.write(chunk))
        await new Promise((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
    }
    res.end();
  };

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://camera');
    if (url.pathname !== path) return false;
    handle(req, res, url).catch((err: unknown) => {
      log.warn({ err }, 'recording download failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('download failed\n');
      else res.destroy();
    });
    return true;
  };
}
