import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { OtaError } from '../errors.js';
import type { ExpectedFirmware, Installer } from '../installer.js';
import { extractTar } from '../tar.js';
import { otherSlot, readBoot, writeBoot } from './ab-boot.js';
import { readManifest } from './manifest.js';
import { failureLine, runTool } from './run-tool.js';

export interface AbDirOptions {
  root: string;
  bootAttempts: number;
  postInstall: readonly string[] | undefined;
  log: Logger;
}

/**
 * Two directories `a` and `b` and a `boot.json` that says which one runs: for the simulator and for
 * simple devices whose firmware is a directory tree. The image is a ustar archive unpacked into the
 * slot that is not running; the switch is one atomic rewrite of `boot.json`.
 */
export class AbDirInstaller implements Installer {
  readonly name = 'ab-dir';
  readonly format = 'tar';
  readonly #o: AbDirOptions;

  constructor(options: AbDirOptions) {
    this.#o = options;
  }

  spaceNeeded(imageSize: number): { path: string; bytes: number }[] {
    // Unpacked, a tar is at most as large as itself.
    return [{ path: this.#o.root, bytes: imageSize }];
  }

  async install(image: string, expect: ExpectedFirmware, signal: AbortSignal): Promise<void> {
    const { root, log } = this.#o;
    const state = await readBoot(root);
    const target = otherSlot(state.booted);
    if (state.trial) {
      // An earlier install of this slot was not booted yet: withdraw it before overwriting the slot.
      const { trial: _trial, ...rest } = state;
      await writeBoot(root, rest);
    }
    const dir = join(root, target);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o755 });
    log.info({ slot: target }, 'unpacking image into the inactive slot');
    await extractTar(image, dir, { durable: true, signal });
    const manifest = await readManifest(dir);
    if (!manifest) throw new OtaError('bad_image', 'image has no manifest.json');
    if (manifest.versionCode !== expect.versionCode || manifest.version !== expect.version) {
      throw new OtaError(
        'manifest_mismatch',
        `image holds ${manifest.version} (${manifest.versionCode}), the job says ${expect.version} (${expect.versionCode})`,
      );
    }
    const hook = this.#o.postInstall;
    if (hook?.[0]) {
      const result = await runTool(hook[0], [...hook.slice(1), dir], { log, signal });
      if (result.code !== 0)
        throw new OtaError('install_failed', `post-install: ${failureLine(result, /error/i)}`);
    }
    const fresh = await readBoot(root);
    await writeBoot(root, { ...fresh, trial: { slot: target, triesLeft: this.#o.bootAttempts } });
    log.info(
      { slot: target, bootAttempts: this.#o.bootAttempts },
      'next boot goes to the new slot, on trial',
    );
  }

  async markGood(): Promise<void> {
    const state = await readBoot(this.#o.root);
    if (state.trial?.slot !== state.booted) return;
    const { trial: _trial, ...rest } = state;
    await writeBoot(this.#o.root, { ...rest, primary: state.booted });
  }

  async markBad(): Promise<void> {
    const state = await readBoot(this.#o.root);
    const { trial: _trial, ...rest } = state;
    await writeBoot(this.#o.root, {
      ...rest,
      fellBack: { slot: state.booted, reason: 'marked_bad', at: Date.now() },
    });
  }
}
