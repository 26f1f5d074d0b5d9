import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { FACTORY_DIR } from '../storage/erase.js';
import type { OtaConfig } from './config.js';
import type { Installer, RunningFirmware } from './installer.js';
import { bootAbSlot } from './installers/ab-boot.js';
import { AbDirInstaller } from './installers/ab-dir.js';
import { RaucInstaller } from './installers/rauc.js';
import { SwupdateInstaller } from './installers/swupdate.js';
import { versionCodeOf } from './version.js';

export interface OtaPaths {
  stateFile: string;
  downloadDir: string;
  abRoot: string;
}

export function otaPaths(config: OtaConfig, dataDir: string): OtaPaths {
  return {
    stateFile: join(dataDir, 'ota', 'state.json'),
    downloadDir: config.downloadDir ?? join(dataDir, 'ota', 'download'),
    // Under factory/: a factory reset erases user data, but must not change which firmware runs.
    abRoot: config.abDir.root ?? join(dataDir, FACTORY_DIR, 'slots'),
  };
}

/**
 * Which firmware this run is. With the A/B directory installer this is also the bootloader step (it
 * uses up one boot attempt of a slot on trial), so it runs once per agent run, before anything
 * reports a version. Otherwise the version is the one the image was built with.
 */
export async function bootFirmware(options: {
  config: OtaConfig;
  dataDir: string;
  builtVersion: string;
  log: Logger;
}): Promise<RunningFirmware> {
  const { config, builtVersion } = options;
  const built = { version: builtVersion, versionCode: config.versionCode ?? versionCodeOf(builtVersion) };
  if (!config.enabled || config.installer !== 'ab-dir') {
    return { ...built, slot: undefined, fellBack: undefined, bootId: await kernelBootId() };
  }
  return bootAbSlot(otaPaths(config, options.dataDir).abRoot, built, options.log.child({ module: 'ota' }));
}

export function createInstaller(config: OtaConfig, dataDir: string, log: Logger): Installer {
  switch (config.installer) {
    case 'rauc':
      return new RaucInstaller({ command: config.rauc.command, log });
    case 'swupdate':
      return new SwupdateInstaller({ ...config.swupdate, log });
    case 'ab-dir':
      return new AbDirInstaller({
        root: otaPaths(config, dataDir).abRoot,
        bootAttempts: config.abDir.bootAttempts,
        postInstall: config.abDir.postInstall,
        log,
      });
  }
}

async function kernelBootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return randomUUID();
  }
}

/**
 * The running firmware as a module. Booting is I/O (and with the A/B directory installer the
 * bootloader's step), so it happens in `start()`, first of all; everything that reports a version
 * reads it from here afterwards.
 */
export class FirmwareBoot implements Module, RunningFirmware {
  readonly name = 'firmware';
  readonly #options: Parameters<typeof bootFirmware>[0];
  #running: RunningFirmware | undefined;

  constructor(options: Parameters<typeof bootFirmware>[0]) {
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#running = await bootFirmware(this.#options);
  }

  async stop(): Promise<void> {}

  get version(): string {
    return this.#booted().version;
  }

  get versionCode(): number {
    return this.#booted().versionCode;
  }

  get slot(): string | undefined {
    return this.#booted().slot;
  }

  get fellBack(): RunningFirmware['fellBack'] {
    return this.#booted().fellBack;
  }

  get bootId(): string {
    return this.#booted().bootId;
  }

  #booted(): RunningFirmware {
    if (!this.#running) throw new AgentError('internal', 'the firmware has not booted yet');
    return this.#running;
  }
}
