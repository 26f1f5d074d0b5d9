import type { Logger } from '../../core/logger.js';
import { OtaError } from '../errors.js';
import type { Installer } from '../installer.js';
import { failureLine, runTool } from './run-tool.js';

export interface SwupdateOptions {
  command: string;
  args: readonly string[];
  markGood: readonly string[];
  markBad: readonly string[];
  log: Logger;
}

/**
 * SWUpdate through `swupdate [args] -i <image>` (exit 0 on success, `[ERROR]` lines otherwise). The
 * .swu's own signature is checked by SWUpdate when built with signed images (`-k` in args). Which
 * slot boots next and the boot counter are the bootloader's; confirming a boot is a bootloader
 * variable, set by the configured mark-good/mark-bad commands.
 */
export class SwupdateInstaller implements Installer {
  readonly name = 'swupdate';
  readonly format = 'swu';
  readonly #o: SwupdateOptions;

  constructor(options: SwupdateOptions) {
    this.#o = options;
  }

  spaceNeeded(): { path: string; bytes: number }[] {
    return [];
  }

  async install(image: string, _expect: unknown, signal: AbortSignal): Promise<void> {
    const result = await runTool(this.#o.command, [...this.#o.args, '-i', image], {
      log: this.#o.log,
      signal,
    });
    if (result.code !== 0)
      throw new OtaError('install_failed', `swupdate: ${failureLine(result, /\[ERROR\]/)}`);
  }

  async markGood(): Promise<void> {
    await this.#run(this.#o.markGood);
  }

  async markBad(): Promise<void> {
    await this.#run(this.#o.markBad);
  }

  async #run(argv: readonly string[]): Promise<void> {
    const [command, ...args] = argv;
    if (!command) return;
    const result = await runTool(command, args, { log: this.#o.log });
    if (result.code !== 0) throw new OtaError('install_failed', `${command}: ${failureLine(result, /./)}`);
  }
}
