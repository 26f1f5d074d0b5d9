import { parseArgs } from 'node:util';
import { fail } from './cli/common.js';
import { AgentError, errorMessage } from './core/errors.js';

const USAGE = `usage:
  ipcam-agent run --config <file>        run the daemon (on a camera)
  ipcam-agent sim [--data-dir <dir>] [--config <file>] [--broker-port <n>] [--ws-port <n>]
                  [--rtsp-port <n>] [--console-port <n>] [--softap-port <n>] [--video <file>]
                  [--unprovisioned]      the whole product on a laptop; --unprovisioned starts
                                         it out of the box, waiting for a QR code or the app
  ipcam-agent token [--rights live,talk] [--ttl 300] [--data-dir <dir>]
                                         a viewer token signed with the simulator's cloud key
  ipcam-agent release --image <file> --version <v> --version-code <n> --url <https-url>
                      [--key <pem>] [--model <m>] [--format tar|raucb|swu] [--job-id <id>] [--data-dir <dir>]
                                         prints the signed firmware job document
  ipcam-agent label [--identity <file>] [--out label.png] [--model <m>] [--data-dir <dir>]
                                         prints the label QR payload and writes it as a PNG`;

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
          'console-port': { type: 'string' },
          'softap-port': { type: 'string' },
          video: { type: 'string' },
          unprovisioned: { type: 'boolean', default: false },
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
        consolePort: port(values['console-port'], '--console-port'),
        softapPort: port(values['softap-port'], '--softap-port'),
        video: values.video,
        unprovisioned: values.unprovisioned,
      });
    }
    case 'token': {
      const { values } = parseArgs({
        args: rest,
        options: {
          rights: { type: 'string', default: 'live' },
          ttl: { type: 'string', default: '300' },
          'data-dir': { type: 'string', default: './.ipcam-sim' },
        },
        strict: true,
      });
      const ttl = Number(values.ttl);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86400)
        fail(`--ttl: expected seconds 1-86400, got ${JSON.stringify(values.ttl)}`);
      const { tokenCommand } = await import('./cli/token.js');
      return tokenCommand({ dataDir: values['data-dir'], rights: values.rights, ttlSeconds: ttl });
    }
    case 'release': {
      const { values } = parseArgs({
        args: rest,
        options: {
          image: { type: 'string' },
          version: { type: 'string' },
          'version-code': { type: 'string' },
          url: { type: 'string' },
          key: { type: 'string' },
          model: { type: 'string' },
          format: { type: 'string' },
          'job-id': { type: 'string' },
          'data-dir': { type: 'string', default: './.ipcam-sim' },
        },
        strict: true,
      });
      if (!values.image || !values.version || !values['version-code'] || !values.url)
        fail('release: --image, --version, --version-code and --url are required');
      const { releaseCommand } = await import('./cli/release.js');
      return releaseCommand({
        image: values.image,
        version: values.version,
        versionCode: values['version-code'],
        url: values.url,
        key: values.key,
        dataDir: values['data-dir'],
        model: values.model,
        format: values.format,
        jobId: values['job-id'],
      });
    }
    case 'label': {
      const { values } = parseArgs({
        args: rest,
        options: {
          identity: { type: 'string' },
          out: { type: 'string', default: 'label.png' },
          model: { type: 'string' },
          'data-dir': { type: 'string', default: './.ipcam-sim' },
        },
        strict: true,
      });
      const { labelCommand } = await import('./cli/label.js');
      return labelCommand({
        identityFile: values.identity,
        dataDir: values['data-dir'],
        out: values.out,
        model: values.model,
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
