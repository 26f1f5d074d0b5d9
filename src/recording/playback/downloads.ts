import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { StreamName } from '../../media/types.js';
import type { Credentials } from '../../rtsp/digest.js';
import type { SecretStore } from '../../storage/secret-store.js';
import type { RecordingReader } from '../reader.js';
import { createDownloadHandler, DOWNLOAD_PATH, type RequestHandler, signDownloadQuery } from './http.js';

/** The secret store entry of the key signed download URLs are made with (created at first use). */
export const DOWNLOAD_KEY_NAME = 'recording.downloadKey';

export interface RecordingDownloads {
  /** Mount on any `node:http` server: answers `/recordings/download`, returns false for the rest. */
  handle: RequestHandler;
  /** A signed path + query for [start, end) of `stream`, good for `ttlSeconds`. */
  signedPath(range: { start: number; end: number; stream: StreamName }, ttlSeconds: number): Promise<string>;
}

export interface RecordingDownloadsDeps {
  reader: () => RecordingReader | undefined;
  credentials: () => Credentials;
  store: SecretStore;
  log: Logger;
}

/** The HTTP download of recordings with its signing key kept in the secret store. */
export function createRecordingDownloads(deps: RecordingDownloadsDeps): RecordingDownloads {
  let pending: Promise<Buffer> | undefined;
  const key = (): Promise<Buffer> => {
    const stored = deps.store.get(DOWNLOAD_KEY_NAME);
    if (stored) return Promise.resolve(Buffer.from(stored, 'hex'));
    pending ??= (async () => {
      const made = randomBytes(32).toString('hex');
      await deps.store.set(DOWNLOAD_KEY_NAME, made);
      return Buffer.from(made, 'hex');
    })().finally(() => {
      pending = undefined;
    });
    return pending;
  };
  return {
    handle: createDownloadHandler({
      reader: deps.reader,
      credentials: deps.credentials,
      signingKey: key,
      log: deps.log,
    }),
    signedPath: async (range, ttlSeconds) =>
      `${DOWNLOAD_PATH}?${signDownloadQuery(await key(), range, ttlSeconds)}`,
  };
}
