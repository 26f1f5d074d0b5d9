import { parseArgs } from 'node:util';
import { COMMANDS, type Command, type Values } from './cli/commands.js';
import { fail, packageVersion } from './cli/common.js';
import { commandUsage, mainUsage } from './cli/usage.js';
import { AgentError, errorMessage } from './core/errors.js';

/** Usage errors exit 2 (fail); help and version go to stdout and exit 0, as a command-line user expects. */
async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-V' || first === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (first === undefined) {
    process.stderr.write(mainUsage(COMMANDS, packageVersion()));
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const name = rest[0];
    if (name === undefined) {
      process.stdout.write(mainUsage(COMMANDS, packageVersion()));
      return 0;
    }
    const about = find(name);
    if (!about) fail(`unknown command ${JSON.stringify(name)} (see ipcam-agent --help)`);
    process.stdout.write(commandUsage(about));
    return 0;
  }
  const command = find(first);
  if (!command) {
    const what = first.startsWith('-') ? 'option' : 'command';
    fail(`unknown ${what} ${JSON.stringify(first)} (see ipcam-agent --help)`);
  }
  const values = parse(command, rest);
  if (values.help === true) {
    process.stdout.write(commandUsage(command));
    return 0;
  }
  return command.run(values);
}

function find(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** parseArgs, strict, with parse errors turned into one line that points at the command's help. */
function parse(command: Command, args: string[]): Values {
  const options = Object.fromEntries(
    Object.entries(command.options).map(([name, o]) => [
      name,
      o.default === undefined ? { type: o.type } : { type: o.type, default: o.default },
    ]),
  );
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values as Values;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw err;
    // parseArgs quotes the offending word: "Unknown option '--vidoe'. To specify a positional ...".
    const word = /'([^']*)'/.exec(errorMessage(err))?.[1] ?? '';
    const hint = `(see ipcam-agent ${command.name} --help)`;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') fail(`${command.name}: unknown option ${word} ${hint}`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      fail(`${command.name}: unexpected argument ${JSON.stringify(word)} ${hint}`);
    // "Option '--video <value>' argument missing" or "Option '--unprovisioned' does not take an argument".
    const option = word.split(' ')[0] ?? word;
    if (/argument missing/.test(errorMessage(err))) fail(`${command.name}: ${option} needs a value ${hint}`);
    fail(`${command.name}: ${errorMessage(err).split('. ')[0]} ${hint}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Expected failures (bad config, unreadable identity or video) are one line; anything else keeps its stack.
    if (err instanceof AgentError) fail(errorMessage(err));
    process.stderr.write(
      `ipcam-agent: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
