import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OtaConfig } from './config.js';
import type { JobDocument } from './document.js';
import { download } from './download.js';
import { OtaError } from './errors.js';
import type { Installer } from './installer.js';
import { checkFreeSpace } from './space.js';

/**
 * The download directory: one partial file per image, named by its sha256 so that a resumed job finds
 * its bytes again. Only `.part` files are ever removed, so a shared directory is safe.
 */
export class ImageFiles {
  readonly #dir: string;
  readonly #config: OtaConfig;

  constructor(dir: string, config: OtaConfig) {
    this.#dir = dir;
    this.#config = config;
  }

  path(document: JobDocument): string {
    return join(this.#dir, `${document.artifact.sha256}.part`);
  }

  /** Refuses before the first byte when the image (less what is already here) and its install do not fit. */
  async checkSpace(document: JobDocument, installer: Installer): Promise<void> {
    const { size } = document.artifact;
    const have = await stat(this.path(document)).then(
      (s) => Math.min(s.size, size),
      () => 0,
    );
    await checkFreeSpace(
      [{ path: this.#dir, bytes: size - have }, ...installer.spaceNeeded(size)],
      this.#config.reserveBytes,
    );
  }

  /** Downloads (or resumes) the image; resolves with its sha256 and how many bytes were already on disk. */
  async fetch(
    document: JobDocument,
    signal: AbortSignal,
    hooks: { onPct: (pct: number) => void; onRetry: (info: Record<string, unknown>) => void },
  ): Promise<{ sha256: string; resumedFrom: number }> {
    const { url, size } = document.artifact;
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const ca = this.#config.caFile ? await readFile(this.#config.caFile) : undefined;
    let reported = 0;
    return download({
      url,
      size,
      file: this.path(document),
      ca,
      ...this.#config.download,
      signal,
      onProgress: (received) => {
        const pct = Math.floor((received * 100) / size);
        if (pct - reported < this.#config.progressStepPct && pct < 100) return;
        reported = pct;
        hooks.onPct(pct);
      },
      onRetry: ({ attempt, received, delayMs, err }) =>
        hooks.onRetry({ attempt, received, delayMs, err: err instanceof Error ? err.message : String(err) }),
    });
  }

  async complete(document: JobDocument): Promise<boolean> {
    return stat(this.path(document)).then(
      (s) => s.size === document.artifact.size,
      () => false,
    );
  }

  /** The image on disk is exactly the one the document signed. */
  async verify(document: JobDocument, sha256: string): Promise<void> {
    const { size } = await stat(this.path(document));
    if (size !== document.artifact.size) {
      throw new OtaError('size_mismatch', `image is ${size} bytes, the job says ${document.artifact.size}`);
    }
    if (sha256 !== document.artifact.sha256) {
      throw new OtaError(
        'sha256_mismatch',
        `image sha256 ${sha256} is not the job's ${document.artifact.sha256}`,
      );
    }
  }

  async removeAll(): Promise<void> {
    const names = await readdir(this.#dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.part')))
      await rm(join(this.#dir, name), { force: true });
  }
}
