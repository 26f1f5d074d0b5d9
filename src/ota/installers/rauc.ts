import type { Logger } from '../../core/logger.js';
import { OtaError } from '../errors.js';
import type { ExpectedFirmware, Installer } from '../installer.js';
import { failureLine, runTool } from './run-tool.js';

export interface RaucSlot {
  name: string;
  class: string;
  bootname: string | null;
  state: string | null;
  bootStatus: string | null;
  bundleVersion: string | null;
}

export interface RaucStatus {
  compatible: string | null;
  /** The bootname of the booted slot, e.g. "A". */
  booted: string | null;
  /** The slot name the bootloader boots next, e.g. "rootfs.1". */
  bootPrimary: string | null;
  slots: RaucSlot[];
}

/**
 * RAUC through its command line: `rauc install <bundle>` (progress lines `NN% message`),
 * `rauc status --detailed --output-format=json`, `rauc status mark-good|mark-bad booted`. RAUC checks
 * the bundle's own signature and compatible string and activates the other slot itself; the boot
 * counter lives in the bootloader.
 */
export class RaucInstaller implements Installer {
  readonly name = 'rauc';
  readonly format = 'raucb';
  readonly #command: string;
  readonly #log: Logger;

  constructor(options: { command: string; log: Logger }) {
    this.#command = options.command;
    this.#log = options.log;
  }

  spaceNeeded(): { path: string; bytes: number }[] {
    return [];
  }

  async install(
    image: string,
    expect: ExpectedFirmware,
    signal: AbortSignal,
    onProgress?: (pct: number) => void,
  ): Promise<void> {
    const result = await runTool(this.#command, ['install', image], {
      log: this.#log,
      signal,
      onLine: (line) => {
        const match = /^\s*(\d{1,3})% /.exec(line);
        if (match) onProgress?.(Math.min(100, Number(match[1])));
      },
    });
    if (result.code !== 0) throw new OtaError('install_failed', `rauc: ${failureLine(result, /LastError/)}`);
    const status = await this.status();
    const next = status.slots.find((s) => s.name === status.bootPrimary);
    if (!next || next.bootname === status.booted) {
      throw new OtaError(
        'install_failed',
        'rauc installed the bundle but the other slot is not the next boot',
      );
    }
    if (next.bundleVersion !== null && next.bundleVersion !== expect.version) {
      throw new OtaError(
        'manifest_mismatch',
        `bundle version ${next.bundleVersion}, the job says ${expect.version}`,
      );
    }
  }

  async status(): Promise<RaucStatus> {
    const result = await runTool(this.#command, ['status', '--detailed', '--output-format=json'], {
      log: this.#log,
    });
    if (result.code !== 0) throw new OtaError('install_failed', `rauc status: ${failureLine(result, /./)}`);
    return parseRaucStatus(result.stdout);
  }

  async markGood(): Promise<void> {
    await this.#mark('mark-good');
  }

  async markBad(): Promise<void> {
    await this.#mark('mark-bad');
  }

  async #mark(verb: 'mark-good' | 'mark-bad'): Promise<void> {
    const result = await runTool(this.#command, ['status', verb, 'booted'], { log: this.#log });
    if (result.code !== 0)
      throw new OtaError('install_failed', `rauc status ${verb}: ${failureLine(result, /./)}`);
  }
}

type Json = Record<string, unknown>;
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** `rauc status --detailed --output-format=json`: slots is an array of one-key objects. */
export function parseRaucStatus(text: string): RaucStatus {
  let root: Json;
  try {
    root = JSON.parse(text) as Json;
  } catch {
    throw new OtaError('install_failed', 'rauc status did not print JSON');
  }
  const slots: RaucSlot[] = [];
  for (const item of Array.isArray(root.slots) ? (root.slots as Json[]) : []) {
    for (const [name, raw] of Object.entries(item ?? {})) {
      const slot = (raw ?? {}) as Json;
      const bundle = ((slot.slot_status as Json | undefined)?.bundle ?? {}) as Json;
      slots.push({
        name,
        class: str(slot.class) ?? '',
        bootname: str(slot.bootname),
        state: str(slot.state),
        bootStatus: str(slot.boot_status),
        bundleVersion: str(bundle.version),
      });
    }
  }
  return {
    compatible: str(root.compatible),
    booted: str(root.booted),
    bootPrimary: str(root.boot_primary),
    slots,
  };
}
