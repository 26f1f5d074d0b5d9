import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../../src/core/errors.js';
import {
  GPIOD_V1,
  GPIOD_V2,
  type GpiodDialect,
  gpiodDialect,
  parseGpiodVersion,
} from '../../src/hardware/gpio/gpiod-tools.js';
import { captureLog } from '../core/fixtures.js';
import { SimGpiodChip } from './sim-gpiod.js';

describe('libgpiod v1 and v2 command lines and outputs', () => {
  it.each([
    [GPIOD_V1.getArgs('gpiochip0', 17), ['gpiochip0', '17']],
    [GPIOD_V1.monArgs('gpiochip1', 4), ['-b', '-F', '%o %e', 'gpiochip1', '4']],
    [GPIOD_V1.setArgs('/dev/gpiochip0', 5, 1, 'hold'), ['-m', 'signal', '/dev/gpiochip0', '5=1']],
    [GPIOD_V1.setArgs('gpiochip0', 5, 0, 'once'), ['-m', 'exit', 'gpiochip0', '5=0']],
    [GPIOD_V2.getArgs('gpiochip0', 17), ['-c', 'gpiochip0', '17']],
    [GPIOD_V2.monArgs('gpiochip1', 4), ['-c', 'gpiochip1', '-e', 'both', '-F', '%o %e', '4']],
    [GPIOD_V2.setArgs('/dev/gpiochip0', 5, 1, 'hold'), ['-c', '/dev/gpiochip0', '5=1']],
    [GPIOD_V2.setArgs('gpiochip0', 5, 0, 'once'), ['-t', '0', '-c', 'gpiochip0', '5=0']],
  ])('%j', (argv, expected) => {
    expect(argv).toEqual(expected);
  });

  it("takes only its own version's gpioget answer", () => {
    expect([GPIOD_V1.parseGet('0\n', 17), GPIOD_V1.parseGet('1\n', 17)]).toEqual([0, 1]);
    expect([GPIOD_V2.parseGet('"17"=inactive\n', 17), GPIOD_V2.parseGet('"17"=active\n', 17)]).toEqual([
      0, 1,
    ]);
    for (const bad of ['', '1', '2\n', '0 1\n', '"17"=active\n', 'x'.repeat(5000)]) {
      expect(() => GPIOD_V1.parseGet(bad, 17)).toThrow(AgentError);
    }
    for (const bad of [
      '1\n',
      '0\n',
      '"18"=active\n',
      '17=active\n',
      '"17"=active',
      '"17"=on\n',
      '"17"=active "18"=active\n',
    ]) {
      expect(() => GPIOD_V2.parseGet(bad, 17)).toThrow(AgentError);
    }
  });

  it("takes gpiomon's `<offset> <edge>` lines for its own line only, with its version's edge numbers", () => {
    expect([GPIOD_V1.parseMon('17 1', 17), GPIOD_V1.parseMon('17 0', 17)]).toEqual([1, 0]);
    // v2 numbers a falling edge 2: read as v1, every falling edge would be lost.
    expect([GPIOD_V2.parseMon('17 1', 17), GPIOD_V2.parseMon('17 2', 17)]).toEqual([1, 0]);
    const v2Default = '1234.000000001\tfalling\tgpiochip0 17';
    for (const bad of [
      '18 1',
      '17 2',
      '17  1',
      ' 17 1',
      '17 1 x',
      '',
      '99999 1',
      'event: RISING EDGE',
      v2Default,
    ]) {
      expect(GPIOD_V1.parseMon(bad, 17)).toBeUndefined();
    }
    for (const bad of ['18 1', '17 0', '17 3', '17 1 x', '', 'event: RISING EDGE', v2Default]) {
      expect(GPIOD_V2.parseMon(bad, 17)).toBeUndefined();
    }
  });

  it.each([
    ['gpioset (libgpiod) v1.6.3\nCopyright (C) 2017-2018 Bartosz Golaszewski\n', 1, '1.6.3'],
    ['gpioset (libgpiod) v1.4.1\n', 1, '1.4.1'],
    ['gpioset (libgpiod) v2.1\n', 2, '2.1'],
    ['gpioset (libgpiod) v2.1.3\nLicense: GPL-2.0-or-later\n', 2, '2.1.3'],
    ['gpioset v2.3 (libgpiod v2.3)\n', 2, '2.3'],
  ])('reads the major version from %j', (stdout, major, version) => {
    const found = parseGpiodVersion(stdout);
    expect([found.dialect.major, found.version]).toEqual([major, version]);
  });

  it('refuses a --version it does not know', () => {
    for (const bad of [
      '',
      'gpioset (libgpiod) v0.3.3\n',
      'gpioset (libgpiod) v3.0\n',
      'gpioset v3.0 (libgpiod v3.0)\n',
      'gpioset 1.6.3\n',
      'Usage: gpioset [OPTIONS]\n',
      `gpioset (libgpiod) v1.${'6'.repeat(5000)}\n`,
    ]) {
      expect(() => parseGpiodVersion(bad)).toThrow(/libgpiod v1 or v2 tools expected/);
    }
  });

  it('asks the tools their version once, and logs it', async () => {
    const chip = await SimGpiodChip.create({}, { major: 2 });
    const capture = captureLog();
    const asked = await Promise.all(
      [1, 2, 3].map(() => gpiodDialect(chip.tools.gpioset, capture.log, chip.tools.toolTimeoutMs)),
    );
    expect(asked).toEqual([GPIOD_V2, GPIOD_V2, GPIOD_V2]);
    expect(await gpiodDialect(chip.tools.gpioset, capture.log, chip.tools.toolTimeoutMs)).toBe(GPIOD_V2);
    expect(chip.calls()).toEqual([['gpioset', '--version']]);
    const logged = capture.records().filter((r) => r.msg === 'libgpiod tools detected');
    expect(logged).toMatchObject([{ version: '2.1.3', major: 2, tool: chip.tools.gpioset }]);
  });

  it('gives up on a tool that does not answer in its time, and says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpiod-hang-'));
    const hang = join(dir, 'gpioset');
    await writeFile(hang, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    try {
      const asked = gpiodDialect(hang, captureLog().log, 300);
      await expect(asked).rejects.toMatchObject({ code: 'hardware_unavailable' });
      await expect(asked).rejects.toThrow('gpioset --version: no answer in 300 ms');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with a stable code when gpioset is not there', async () => {
    const missing = gpiodDialect('/nonexistent/gpioset', captureLog().log);
    await expect(missing).rejects.toMatchObject({ code: 'hardware_unavailable' });
    await expect(missing).rejects.toThrow('gpioset --version: spawn /nonexistent/gpioset ENOENT');
  });
});

const DIALECTS = { 1: GPIOD_V1, 2: GPIOD_V2 } as const;
const MISSING = 'gpiochip99';
type Case = [tool: 'gpioget' | 'gpioset' | 'gpiomon', args: string[], stderr: string];

/**
 * What tools of one major answer to our command lines, their own version's and the other's, on a chip
 * that is not there: their own get as far as opening the chip, the other's are refused as they parse.
 * Error lines are prefixed with argv[0], shown here as the tool's name.
 */
function cases(major: 1 | 2): Case[] {
  const own: GpiodDialect = DIALECTS[major];
  const other: GpiodDialect = DIALECTS[major === 1 ? 2 : 1];
  const invalid = (tool: string, option: string) =>
    `${tool}: invalid option -- '${option}'\n${tool}: try ${tool} --help`;
  if (major === 1) {
    const set = 'gpioset: error setting the GPIO line values: No such file or directory';
    return [
      ['gpioget', own.getArgs(MISSING, 17), 'gpioget: error reading GPIO values: No such file or directory'],
      ['gpiomon', own.monArgs(MISSING, 4), 'gpiomon: error waiting for events: No such file or directory'],
      ['gpioset', own.setArgs(MISSING, 5, 1, 'hold'), set],
      ['gpioset', own.setArgs(MISSING, 5, 0, 'once'), set],
      ['gpioget', other.getArgs(MISSING, 17), invalid('gpioget', 'c')],
      ['gpiomon', other.monArgs(MISSING, 4), invalid('gpiomon', 'c')],
      ['gpioset', other.setArgs(MISSING, 5, 1, 'hold'), invalid('gpioset', 'c')],
      ['gpioset', other.setArgs(MISSING, 5, 0, 'once'), invalid('gpioset', 't')],
    ];
  }
  const noChip = (tool: string) => `${tool}: cannot find GPIO chip character device '${MISSING}'`;
  return [
    ['gpioget', own.getArgs(MISSING, 17), noChip('gpioget')],
    ['gpiomon', own.monArgs(MISSING, 4), noChip('gpiomon')],
    ['gpioset', own.setArgs(MISSING, 5, 1, 'hold'), noChip('gpioset')],
    ['gpioset', own.setArgs(MISSING, 5, 0, 'once'), noChip('gpioset')],
    // Without -c, v2 takes v1's chip and offset for two line names.
    [
      'gpioget',
      other.getArgs(MISSING, 17),
      `gpioget: cannot find line '${MISSING}'\ngpioget: cannot find line '17'`,
    ],
    // v2's -b is --bias: it takes v1's -F for a bias.
    ['gpiomon', other.monArgs(MISSING, 4), 'gpiomon: invalid bias: -F'],
    ['gpioset', other.setArgs(MISSING, 5, 1, 'hold'), invalid('gpioset', 'm')],
    ['gpioset', other.setArgs(MISSING, 5, 0, 'once'), invalid('gpioset', 'm')],
  ];
}

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: unknown }).code) : 0;
      resolve({ code, stdout, stderr: stderr.replaceAll(command, basename(command)).trimEnd() });
    });
  });
}

async function answers(tools: Record<Case[0], string>, major: 1 | 2) {
  return Promise.all(cases(major).map(([tool, args]) => run(tools[tool], args)));
}

describe.each([1, 2] as const)('the libgpiod v%i stand-in', (major) => {
  it('answers our command lines as the real tools do (their error lines, exit code 1)', async () => {
    const chip = await SimGpiodChip.create({}, { major });
    const got = await answers(chip.tools, major);
    expect(got).toEqual(cases(major).map(([, , stderr]) => ({ code: 1, stdout: '', stderr })));
  });
});

/**
 * The real tools where this machine has them: Debian's `gpiod` in /usr/bin (v1 on Debian 12, v2 on
 * 13), and directories in GPIOD_REAL_TOOLS (colon-separated, e.g. a libgpiod v2 build). With no GPIO
 * chip here, they are run against a missing one; their version decides which answers they must give.
 */
const REAL = [
  ...new Set(['/usr/bin', ...(process.env.GPIOD_REAL_TOOLS ?? '').split(':').filter(Boolean)]),
].filter((dir) => ['gpioget', 'gpioset', 'gpiomon'].every((tool) => existsSync(join(dir, tool))));

describe('the real libgpiod tools', () => {
  it('include Debian’s in /usr/bin (`apt install gpiod`, as .ci/run does): nothing here is skipped', () => {
    expect(REAL).toContain('/usr/bin');
  });

  it.each(REAL)('in %s: their version is detected and they answer as their stand-in does', async (dir) => {
    const tools = {
      gpioget: join(dir, 'gpioget'),
      gpioset: join(dir, 'gpioset'),
      gpiomon: join(dir, 'gpiomon'),
    };
    const { major } = await gpiodDialect(tools.gpioset, captureLog().log);
    const got = await answers(tools, major);
    expect(got).toEqual(cases(major).map(([, , stderr]) => ({ code: 1, stdout: '', stderr })));

    // Past the first line (the version itself), --version prints the same text as the stand-in.
    const chip = await SimGpiodChip.create({}, { major });
    const [real, standIn] = await Promise.all([
      run(tools.gpioset, ['--version']),
      run(chip.tools.gpioset, ['--version']),
    ]);
    expect(real.stdout.split('\n').slice(1)).toEqual(standIn.stdout.split('\n').slice(1));
  });
});
