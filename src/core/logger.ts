import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';
import { redactValue, type SecretValues } from './redact.js';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface LoggerOptions {
  level: LogLevel;
  secrets: SecretValues;
  /** Defaults to stdout; tests pass a stream to capture every line. */
  destination?: DestinationStream;
}

/**
 * The root logger. Every argument of every call, at every level, passes through the redactor before
 * pino serialises it, so a module cannot leak a secret by logging an object it did not inspect.
 */
export function createLogger(options: LoggerOptions): Logger {
  const { secrets } = options;
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
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
