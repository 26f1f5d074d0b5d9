import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { GpiodTools } from '../../src/hardware/gpio/gpiod.js';

const TOOLS = resolve(import.meta.dirname, 'sim-gpiod', 'tools.mjs');
const TOOLS_V2 = resolve(import.meta.dirname, '..', 'fixtures', 'gpiod-v2', 'gpio-tools.mjs');

/**
 * A GPIO chip for libgpiod's tools, simulated: a directory of line levels and three executables that
 * stand in for gpioget, gpioset and gpiomon over it, as libgpiod v1 (sim-gpiod/tools.mjs) or v2
 * (test/fixtures/gpiod-v2) has them. `set` plays the outside world on an input; `level` shows what an
 * output is driven to; `holder` who has requested a line; `calls` every command line the tools got.
 */
export class SimGpiodChip {
  readonly root: string;
  readonly chip: string;
  readonly tools: GpiodTools;
  readonly major: 1 | 2;

  private constructor(root: string, chip: string, tools: GpiodTools, major: 1 | 2) {
    this.root = root;
    this.chip = chip;
    this.tools = tools;
    this.major = major;
  }

  static async create(
    lines: Record<number, 0 | 1>,
    { major = 1, chip = 'gpiochip0' }: { major?: 1 | 2; chip?: string } = {},
  ): Promise<SimGpiodChip> {
    const root = await mkdtemp(join(tmpdir(), 'gpiod-'));
    await mkdir(join(root, chip));
    for (const [offset, level] of Object.entries(lines))
      await writeFile(join(root, chip, offset), `${level}\n`);
    const bin = join(root, 'bin');
    await mkdir(bin);
    const tools = {} as Record<keyof GpiodTools, string>;
    for (const tool of ['gpioget', 'gpioset', 'gpiomon'] as const) {
      const path = join(bin, tool);
      tools[tool] = path;
      // Node itself as the interpreter: no shell, nothing from PATH. v2's stand-in is one script that
      // takes its tool and its chips from the path it is run as (argv[1]: this file).
      const main =
        major === 2
          ? `import ${JSON.stringify(TOOLS_V2)};`
          : `import { run } from ${JSON.stringify(TOOLS)};\nrun(${JSON.stringify(tool)}, ${JSON.stringify(root)}, process.argv.slice(2), process.argv[1]);`;
      await writeFile(path, `#!${process.execPath}\n${main}\n`);
      await chmod(path, 0o755);
    }
    // Each stand-in is a Node process: its first start on a loaded machine took over the real tools' 2 s.
    return new SimGpiodChip(root, chip, { ...tools, toolTimeoutMs: 15_000 }, major);
  }

  /** Every command line the tools were run with, in order: `[tool, ...args]`. */
  calls(): string[][] {
    const file = join(this.root, 'calls');
    if (!existsSync(file)) return [];
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    return lines.map((line) => JSON.parse(line) as string[]);
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
