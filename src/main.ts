import { parseArgs } from 'node:util';
import { fail } from './cli/common.js';
import { AgentError, errorMessage } from './core/errors.js';

const USAGE = `usage:
  ipcam-agent run --config <file>        run the daemon (on a camera)
  ipcam-agent sim [--data-dir <dir>] [--config <file>] [--broker-port <n>] [--ws-port <n>]
                  [--rtsp-port <n>] [--video <file>]
                                         the whole product on a laptop`;

function port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    fail(`${flag}: expected a port number 0-65535, got ${JSON.stringify(value)}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string' } }, strict: true });
      if (!values.config) fail('run: --config <file> is required');
      // Each command loads only what it needs: `run` on a camera never loads the simulator's broker.
      const { runCommand } = await import('./cli/run.js');
      return runCommand(values.config);
    }
    case 'sim': {
      const { values } = parseArgs({
        args: rest,
        options: {
          'data-dir': { type: 'string', default: './.ipcam-sim' },
          config: { type: 'string' },
          'broker-port': { type: 'string' },
          'ws-port': { type: 'string' },
          'rtsp-port': { type: 'string' },
          video: { type: 'string' },
        },
        strict: true,
      });
      const { simCommand } = await import('./cli/sim.js');
      return simCommand({
        dataDir: values['data-dir'],
        configPath: values.config,
        brokerPort: port(values['broker-port'], '--broker-port'),
        wsPort: port(values['ws-port'], '--ws-port'),
        rtspPort: port(values['rtsp-port'], '--rtsp-port'),
        video: values.video,
      });
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      fail(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Expected failures (bad config, unreadable identity) are one line; anything else keeps its stack.
    if (err instanceof AgentError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      fail(errorMessage(err));
    }
    process.stderr.write(
      `ipcam-agent: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
