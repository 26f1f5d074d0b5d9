import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { AgentError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

/**
 * The command lines and outputs of one major version of libgpiod's tools. v1 (Debian 12's `gpiod`
 * 1.6) and v2 (Yocto Scarthgap's 2.1, Debian 13's 2.2) share the tools' names and nothing else: v2
 * takes the chip as `-c <chip>` and reads a bare first argument as a line name, its `-b` is `--bias`
 * (v1's is line-buffering), it has no `-m`, prints `"17"=active` where v1 printed `1`, and numbers a
 * falling edge `2` where v1 printed `0`. Learned from libgpiod's tools/*.c on its v1.6.x branch and
 * v2.1 tag, and their tools/gpio-tools-test.bats (v1) and .bash (v2).
 */
export interface GpiodDialect {
  readonly major: 1 | 2;
  /** gpioget: one read of one line (requested as an input for the read, then released). */
  getArgs(chip: string, line: number): string[];
  /** gpioget's answer: the line's level, or an error when it is not exactly what the tool prints. */
  parseGet(stdout: string, line: number): 0 | 1;
  /** gpiomon: edges of one line, one `<offset> <edge>` line each, on stdout as they come. */
  monArgs(chip: string, line: number): string[];
  /** One gpiomon line: the level after the edge, or undefined when it is not ours. */
  parseMon(text: string, line: number): 0 | 1 | undefined;
  /** gpioset: drive one line and hold it until SIGTERM (`hold`), or set it and exit (`once`). */
  setArgs(chip: string, line: number, level: 0 | 1, mode: 'hold' | 'once'): string[];
}

const TOOL_TIMEOUT_MS = 2000;

function badOutput(tool: string, stdout: string): AgentError {
  return new AgentError('hardware_unavailable', `${tool} printed ${JSON.stringify(stdout.slice(0, 40))}`);
}

export const GPIOD_V1: GpiodDialect = {
  major: 1,
  getArgs: (chip, line) => [chip, String(line)],
  parseGet(stdout) {
    if (stdout === '0\n' || stdout === '1\n') return stdout === '1\n' ? 1 : 0;
    throw badOutput('gpioget', stdout);
  },
  // -b: v1's gpiomon leaves stdout block-buffered on a pipe, so an edge would wait for 4 KiB of others.
  monArgs: (chip, line) => ['-b', '-F', '%o %e', chip, String(line)],
  parseMon(text, line) {
    const m = /^(\d{1,4}) ([01])$/.exec(text);
    if (!m || Number(m[1]) !== line) return undefined;
    return m[2] === '1' ? 1 : 0;
  },
  // -m signal: v1's default mode (`exit`) would let the line go at once.
  setArgs: (chip, line, level, mode) => ['-m', mode === 'hold' ? 'signal' : 'exit', chip, `${line}=${level}`],
};

export const GPIOD_V2: GpiodDialect = {
  major: 2,
  // With -c, a line given as a number is an offset; without it, a name looked up on every chip.
  getArgs: (chip, line) => ['-c', chip, String(line)],
  // `"<line as given>"=active|inactive`: the default of every 2.x (--numeric is not relied upon).
  parseGet(stdout, line) {
    const m = /^"(\d{1,4})"=(active|inactive)\n$/.exec(stdout);
    if (!m || Number(m[1]) !== line) throw badOutput('gpioget', stdout);
    return m[2] === 'active' ? 1 : 0;
  },
  // v2's gpiomon flushes stdout after every batch of events, so it needs no buffering flag.
  monArgs: (chip, line) => ['-c', chip, '-e', 'both', '-F', '%o %e', String(line)],
  // v2's %e is 1 for a rising edge and 2 for a falling one.
  parseMon(text, line) {
    const m = /^(\d{1,4}) ([12])$/.exec(text);
    if (!m || Number(m[1]) !== line) return undefined;
    return m[2] === '1' ? 1 : 0;
  },
  // v2's gpioset holds its lines until killed; `-t 0` (a toggle sequence ending in 0) sets and exits.
  setArgs: (chip, line, level, mode) => [
    ...(mode === 'once' ? ['-t', '0'] : []),
    '-c',
    chip,
    `${line}=${level}`,
  ],
};

/**
 * `gpioset --version`'s first line: `gpioset (libgpiod) v1.6.3` (v1 up to v2.2) or `gpioset v2.3
 * (libgpiod v2.3)` (from v2.3). Any other major is refused: its command lines are unknown.
 */
export function parseGpiodVersion(stdout: string): { dialect: GpiodDialect; version: string } {
  const first = stdout.split('\n', 1)[0] ?? '';
  const m =
    /^[\w.-]{1,64} (?:\(libgpiod\) v([\w.+~-]{1,32})|v([\w.+~-]{1,32}) \(libgpiod v[\w.+~-]{1,32}\))$/.exec(
      first,
    );
  const version = m?.[1] ?? m?.[2] ?? '';
  const major = /^(\d+)\./.exec(version)?.[1];
  if (major === '1' || major === '2') return { dialect: major === '1' ? GPIOD_V1 : GPIOD_V2, version };
  throw new AgentError(
    'hardware_unavailable',
    `gpioset --version printed ${JSON.stringify(first.slice(0, 80))}: libgpiod v1 or v2 tools expected`,
  );
}

/** A one-shot tool: its stdout, or its stderr (else the spawn error) in an error starting with `what`. */
export function runTool(
  command: string,
  args: string[],
  what: string,
  timeoutMs = TOOL_TIMEOUT_MS,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, maxBuffer: 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const said = err.killed ? `no answer in ${timeoutMs} ms` : stderr.trim().slice(0, 200) || err.message;
        reject(new AgentError('hardware_unavailable', `${what}: ${said}`));
      },
    );
  });
}

/** Per gpioset path, for the life of the process: every line of a board asks, one tool run answers. */
const detected = new Map<string, Promise<GpiodDialect>>();

/** The tools' major version, from `gpioset --version` (the same option and first line in v1 and v2). */
export function gpiodDialect(gpioset: string, log: Logger, timeoutMs?: number): Promise<GpiodDialect> {
  let found = detected.get(gpioset);
  if (!found) {
    found = runTool(gpioset, ['--version'], `${basename(gpioset)} --version`, timeoutMs).then((stdout) => {
      const { dialect, version } = parseGpiodVersion(stdout);
      log.info({ tool: gpioset, version, major: dialect.major }, 'libgpiod tools detected');
      return dialect;
    });
    // A failure is not remembered: the next setup (a retry of the hardware module) asks again.
    const asked = found;
    asked.catch(() => {
      if (detected.get(gpioset) === asked) detected.delete(gpioset);
    });
    detected.set(gpioset, asked);
  }
  return found;
}
