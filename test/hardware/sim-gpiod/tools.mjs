// Stand-ins for libgpiod v1's gpioget, gpioset and gpiomon (Debian 12's `gpiod` 1.6.3) over a
// directory instead of /dev/gpiochipN: <root>/<chip>/<offset> holds the line's electrical level and
// <root>/<chip>/<offset>.holder the pid of the process that has requested it. They take the flags
// the agent uses (and --version) and answer as the real tools do: the same output, the same error
// lines, prefixed with argv[0] as v1 prints them ("/usr/bin/gpioget: error reading GPIO values: Device
// or resource busy"), exit code 1 on errors, 0 after SIGTERM/SIGINT for the long-running ones. This
// machine has no GPIO chip (and no gpio-sim module), so the agent's code meets these in the tests;
// their command lines were checked against the real tools' --help and their error output against a
// missing chip (test/hardware/gpiod-tools.test.ts compares them whenever the real tools are
// installed). Every call is appended to <root>/calls as a JSON argv. v2's stand-in: test/fixtures/gpiod-v2.
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const ERRORS = {
  gpioget: 'error reading GPIO values',
  gpioset: 'error setting the GPIO line values',
  gpiomon: 'error waiting for events',
};

/** Set by run(): v1 prefixes its errors with argv[0] (program_invocation_name). */
let prog = '';

function fail(message) {
  process.stderr.write(`${prog}: ${message}\n`);
  process.exit(1);
}

function lineFile(root, tool, chip, offset) {
  // As v1 does: offsets are parsed before the chip is opened.
  if (!/^\d+$/.test(offset)) fail(`invalid GPIO offset: ${offset}`);
  const dir = join(root, basename(chip));
  if (!existsSync(dir)) fail(`${ERRORS[tool]}: No such file or directory`);
  const file = join(dir, offset);
  if (!existsSync(file)) fail(`${ERRORS[tool]}: Invalid argument`);
  return file;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Requests the line as the kernel would: one holder at a time. */
function request(tool, file) {
  const holder = `${file}.holder`;
  if (existsSync(holder)) {
    const pid = Number(readFileSync(holder, 'utf8'));
    if (pid !== process.pid && alive(pid)) fail(`${ERRORS[tool]}: Device or resource busy`);
  }
  writeFileSync(holder, String(process.pid));
  const release = () => rmSync(holder, { force: true });
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
      release();
      process.exit(0);
    });
  }
  return release;
}

const level = (file) => (readFileSync(file, 'utf8').trim() === '1' ? 1 : 0);

const VERSION = [
  'Copyright (C) 2017-2018 Bartosz Golaszewski',
  'License: LGPLv2.1',
  'This is free software: you are free to change and redistribute it.',
  'There is NO WARRANTY, to the extent permitted by law.',
];

export function run(tool, root, argv, argv0 = tool) {
  prog = argv0;
  appendFileSync(join(root, 'calls'), `${JSON.stringify([tool, ...argv])}\n`);
  const args = [...argv];
  const flags = new Map();
  const known = { gpioget: [], gpioset: ['-m'], gpiomon: ['-b', '-F'] }[tool];
  const takesValue = new Set(['-m', '-F']);
  while (args[0]?.startsWith('-')) {
    const flag = args.shift();
    if (flag === '-v' || flag === '--version') {
      process.stdout.write(`${tool} (libgpiod) v1.6.3\n${VERSION.join('\n')}\n`);
      return;
    }
    // getopt's line, then the tool's (a long option it does not know is not imitated).
    if (!known.includes(flag)) {
      process.stderr.write(`${prog}: invalid option -- '${flag.replace(/^-+/, '')[0]}'\n`);
      fail(`try ${prog} --help`);
    }
    flags.set(flag, takesValue.has(flag) ? args.shift() : true);
  }
  const [chip, ...lines] = args;
  if (!chip || lines.length !== 1) fail('this stand-in takes one chip and one line');
  if (tool === 'gpioget') {
    const file = lineFile(root, tool, chip, lines[0]);
    const holder = `${file}.holder`;
    if (existsSync(holder) && alive(Number(readFileSync(holder, 'utf8'))))
      fail(`${ERRORS[tool]}: Device or resource busy`);
    process.stdout.write(`${level(file)}\n`);
    return;
  }
  if (tool === 'gpioset') {
    const m = /^(\d+)=([01])$/.exec(lines[0]);
    if (!m) fail(`invalid offset<->value mapping: ${lines[0]}`);
    const mode = flags.get('-m') ?? 'exit';
    if (mode !== 'signal' && mode !== 'exit') fail(`invalid mode: ${mode}`);
    const file = lineFile(root, tool, chip, m[1]);
    const release = request(tool, file);
    writeFileSync(file, `${m[2]}\n`);
    if (mode === 'exit') release();
    else setInterval(() => undefined, 1 << 30);
    return;
  }
  // gpiomon -b -F '%o %e': one line per edge.
  if (flags.get('-F') !== '%o %e') fail('this stand-in prints only -F "%o %e"');
  const offset = lines[0];
  const file = lineFile(root, tool, chip, offset);
  // The level is taken before the line shows as requested: the kernel reports every edge from the request
  // on, and a test that sets the line once it sees the holder must get that edge (it was lost when the
  // change fell between the holder file and this read, a CI failure on a loaded machine).
  let last = level(file);
  request(tool, file);
  setInterval(() => {
    let now;
    try {
      now = level(file);
    } catch {
      return;
    }
    if (now !== last) {
      last = now;
      process.stdout.write(`${offset} ${now}\n`);
    }
  }, 2);
}
