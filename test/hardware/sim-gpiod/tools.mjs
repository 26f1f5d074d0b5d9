// Stand-ins for libgpiod v1's gpioget, gpioset and gpiomon (Debian 12's `gpiod` 1.6.3) over a
// directory instead of /dev/gpiochipN: <root>/<chip>/<offset> holds the line's electrical level and
// <root>/<chip>/<offset>.holder the pid of the process that has requested it. They take the flags
// the agent uses and answer as the real tools do: the same output, the same error lines ("gpioget:
// error reading GPIO values: Device or resource busy") and exit code 1 on errors, 0 after
// SIGTERM/SIGINT for the long-running ones. This machine has no GPIO chip (and no gpio-sim module),
// so the agent's code meets these in the tests; their command lines were checked against the real
// tools' --help and their error output against a missing chip.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const ERRORS = {
  gpioget: 'error reading GPIO values',
  gpioset: 'error setting the GPIO line values',
  gpiomon: 'error waiting for events',
};

function fail(tool, message) {
  process.stderr.write(`${tool}: ${message}\n`);
  process.exit(1);
}

function lineFile(root, tool, chip, offset) {
  const dir = join(root, basename(chip));
  if (!existsSync(dir)) fail(tool, `${ERRORS[tool]}: No such file or directory`);
  if (!/^\d+$/.test(offset)) fail(tool, `invalid GPIO offset: ${offset}`);
  const file = join(dir, offset);
  if (!existsSync(file)) fail(tool, `${ERRORS[tool]}: Invalid argument`);
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
    if (pid !== process.pid && alive(pid)) fail(tool, `${ERRORS[tool]}: Device or resource busy`);
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

export function run(tool, root, argv) {
  const args = [...argv];
  const flags = new Map();
  const known = { gpioget: [], gpioset: ['-m'], gpiomon: ['-b', '-F'] }[tool];
  const takesValue = new Set(['-m', '-F']);
  while (args[0]?.startsWith('-')) {
    const flag = args.shift();
    if (!known.includes(flag)) fail(tool, `invalid option -- '${flag.replace(/^-+/, '')}'`);
    flags.set(flag, takesValue.has(flag) ? args.shift() : true);
  }
  const [chip, ...lines] = args;
  if (!chip || lines.length !== 1) fail(tool, 'this stand-in takes one chip and one line');
  if (tool === 'gpioget') {
    const file = lineFile(root, tool, chip, lines[0]);
    const holder = `${file}.holder`;
    if (existsSync(holder) && alive(Number(readFileSync(holder, 'utf8'))))
      fail(tool, `${ERRORS[tool]}: Device or resource busy`);
    process.stdout.write(`${level(file)}\n`);
    return;
  }
  if (tool === 'gpioset') {
    const m = /^(\d+)=([01])$/.exec(lines[0]);
    if (!m) fail(tool, `invalid offset<->value mapping: ${lines[0]}`);
    const mode = flags.get('-m') ?? 'exit';
    if (mode !== 'signal' && mode !== 'exit') fail(tool, `invalid mode: ${mode}`);
    const file = lineFile(root, tool, chip, m[1]);
    const release = request(tool, file);
    writeFileSync(file, `${m[2]}\n`);
    if (mode === 'exit') release();
    else setInterval(() => undefined, 1 << 30);
    return;
  }
  // gpiomon -b -F '%o %e': one line per edge.
  if (flags.get('-F') !== '%o %e') fail(tool, 'this stand-in prints only -F "%o %e"');
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
