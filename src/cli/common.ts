import { createRequire } from 'node:module';
import { createLogger, type LogFormat, type Logger, type LogLevel } from '../core/logger.js';
import { SecretValues } from '../core/redact.js';

declare const __IPCAM_AGENT_VERSION__: string | undefined;

/** Set by the bundler; when running from source (tests, tsx) it is read from package.json. */
export function packageVersion(): string {
  if (typeof __IPCAM_AGENT_VERSION__ === 'string') return __IPCAM_AGENT_VERSION__;
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

/**
 * The process's logger, on stdout. Without a chosen format, a person at a terminal gets readable lines
 * and anything else (journald, a pipe, a test) gets JSON. Colours follow the terminal and NO_COLOR.
 */
export function makeLogger(level: LogLevel, format?: LogFormat): { log: Logger; secrets: SecretValues } {
  const secrets = new SecretValues();
  const tty = process.stdout.isTTY === true;
  const chosen = format ?? (tty ? 'pretty' : 'json');
  const color = tty && chosen === 'pretty' && !process.env.NO_COLOR;
  return { log: createLogger({ level, secrets, format: chosen, color }), secrets };
}

/** SIGTERM and SIGINT abort the returned signal; a second signal while stopping exits at once. */
export function stopSignal(log: Logger): AbortSignal {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log.warn({ signal: name }, 'second signal while stopping: exiting now');
      process.exit(1);
    }
    log.info({ signal: name }, 'stopping');
    controller.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return controller.signal;
}

/** One clear line on stderr, no stack: the message already names the key and what was expected. */
export function fail(message: string): never {
  process.stderr.write(`ipcam-agent: ${message}\n`);
  process.exit(2);
}
