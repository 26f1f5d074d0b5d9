import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';
import { prettyLine } from './log-pretty.js';
import { redactValue, type SecretValues } from './redact.js';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
/** `json`: one JSON object per line, for journald and machines; `pretty`: for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level: LogLevel;
  secrets: SecretValues;
  /** Defaults to `json`. */
  format?: LogFormat;
  /** ANSI colours in the `pretty` format. */
  color?: boolean;
  /** Defaults to stdout; tests pass a stream to capture every line. */
  destination?: DestinationStream;
}

/**
 * The root logger. Every argument of every call, at every level, passes through the redactor before
 * pino serialises it, so a module cannot leak a secret by logging an object it did not inspect. The
 * pretty format is made from the redacted JSON line, so it cannot show more than the JSON would.
 */
export function createLogger(options: LoggerOptions): Logger {
  const { secrets } = options;
  const sink = options.destination ?? pino.destination({ fd: 1, sync: true });
  const color = options.color === true;
  const destination: DestinationStream =
    options.format === 'pretty' ? { write: (line: string) => sink.write(prettyLine(line, { color })) } : sink;
  return pino(
    {
      level: options.level,
      base: undefined,
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((arg) => redactValue(arg, secrets)) as Parameters<typeof method>;
          method.apply(this, cleaned);
        },
      },
      // Errors arrive already flattened by the redactor; keep pino from re-serialising them.
      serializers: { err: (value: unknown) => value },
    },
    destination,
  );
}
