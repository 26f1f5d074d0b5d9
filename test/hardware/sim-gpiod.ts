import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { GpiodTools } from '../../src/hardware/gpio/gpiod.js';

const TOOLS = resolve(import.meta.dirname, 'sim-gpiod', 'tools.mjs');

/**
 * A GPIO chip for libgpiod's tools, simulated: a directory of line levels and three executables that
 * stand in for gpioget, gpioset and gpiomon (sim-gpiod/tools.mjs) over it. `set` plays the outside
 * world on an input; `level` shows what an output is driven to; `holder` who has requested a line.
 */
export class SimGpiodChip {
  readonly root: string;
  readonly chip: string;
  readonly tools: GpiodTools;

  private constructor(root: string, chip: string, tools: GpiodTools) {
    this.root = root;
    this.chip = chip;
    this.tools = tools;
  }

  static async create(lines: Record<number, 0 | 1>, chip = 'gpiochip0'): Promise<SimGpiodChip> {
    const root = await mkdtemp(join(tmpdir(), 'gpiod-'));
    await mkdir(join(root, chip));
    for (const [offset, level] of Object.entries(lines))
      await writeFile(join(root, chip, offset), `${level}\n`);
    const bin = join(root, 'bin');
    await mkdir(bin);
    const tools = {} as Record<keyof GpiodTools, string>;
    for (const tool of ['gpioget', 'gpioset', 'gpiomon'] as const) {
      const path = join(bin, tool);
      // Node itself as the interpreter: no shell, nothing from PATH.
      await writeFile(
        path,
        `#!${process.execPath}\nimport { run } from ${JSON.stringify(TOOLS)};\nrun(${JSON.stringify(tool)}, ${JSON.stringify(root)}, process.argv.slice(2));\n`,
      );
      await chmod(path, 0o755);
      tools[tool] = path;
    }
    return new SimGpiodChip(root, chip, tools);
  }

  async set(offset: number, level: 0 | 1): Promise<void> {
    await writeFile(join(this.root, this.chip, String(offset)), `${level}\n`);
  }

  async level(offset: number): Promise<0 | 1> {
    return (await readFile(join(this.root, this.chip, String(offset)), 'utf8')).trim() === '1' ? 1 : 0;
  }

  /** The pid holding the line (a gpioset or gpiomon), or undefined when it is free. */
  holder(offset: number): number | undefined {
    const file = join(this.root, this.chip, `${offset}.holder`);
    return existsSync(file) ? Number(readFileSync(file, 'utf8')) : undefined;
  }
}
