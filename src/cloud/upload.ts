import { type FileHandle, open } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { Backoff } from '../core/backoff.js';
import { AgentError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { redactString } from '../core/redact.js';

/** What is uploaded: bytes in memory, or a file read as it is sent (a clip can be tens of MB). */
export type UploadBody = Buffer | { path: string; size: number };

export interface UploadOptions {
  /** Extra CA certificates (PEM) trusted besides the system's, for a private cloud. */
  ca?: Buffer | undefined;
  attempts: number;
  timeoutMs: number;
  log: Logger;
}

/**
 * The object URL for a stored file: `{key}` in the cloud's presigned URL is replaced by the object
 * key; without it the key is appended as the last path segment.
 */
export function objectUrl(uploadUrl: string, key: string): string {
  if (uploadUrl.includes('{key}')) return uploadUrl.replace('{key}', encodeURIComponent(key));
  const url = new URL(uploadUrl);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return url.toString();
}

/** HTTPS PUT with certificate verification and retries with backoff; plain HTTP is refused. */
export async function putObject(
  url: string,
  body: UploadBody,
  contentType: string,
  options: UploadOptions,
): Promise<void> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:') throw new AgentError('bad_request', 'uploads go over HTTPS only');
  const backoff = new Backoff({ initialMs: 500, maxMs: 10000, jitter: 0.3 });
  let lastError: unknown;
  for (let attempt = 1; attempt <= options.attempts; attempt += 1) {
    try {
      await putOnce(parsed, body, contentType, options);
      return;
    } catch (err) {
      lastError = err;
      options.log.warn(
        { attempt, url: redactString(`${parsed.origin}${parsed.pathname}`), err },
        'upload failed',
      );
      if (attempt < options.attempts) await delay(backoff.next());
    }
  }
  throw new AgentError(
    'internal',
    `upload failed after ${options.attempts} attempts: ${errorMessage(lastError)}`,
  );
}

async function putOnce(
  url: URL,
  body: UploadBody,
  contentType: string,
  options: UploadOptions,
): Promise<void> {
  if (Buffer.isBuffer(body)) return request(url, body, body.length, contentType, options);
  // Opened before the request, so that a file that cannot be read sends nothing and says why.
  const file = await open(body.path);
  try {
    await request(url, file, body.size, contentType, options);
  } finally {
    await file.close();
  }
}

function request(
  url: URL,
  body: Buffer | FileHandle,
  length: number,
  contentType: string,
  options: UploadOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const requester = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = requester(
      url,
      {
        method: 'PUT',
        headers: {
          'content-type': contentType,
          'content-length': length,
        },
        timeout: options.timeoutMs,
        ...(options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        res.resume();
        res.once('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`HTTP ${status}`));
        });
      },
    );
    req.once('timeout', () => req.destroy(new Error('upload timed out')));
    req.once('error', reject);
    if (Buffer.isBuffer(body)) {
      req.end(body);
      return;
    }
    // Read afresh on every attempt. A file that changed size since it was measured makes the server see
    // a short or long body, and the request fails. pipeline stops reading when the request fails.
    pipeline(body.createReadStream({ autoClose: false }), req, () => undefined);
  });
}
