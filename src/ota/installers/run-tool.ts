import { execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../../core/logger.js';
import { redactString } from '../../core/redact.js';
import { OtaError } from '../errors.js';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs an installer tool to completion: argv only (execFile, never a shell), killed when `signal`
 * aborts, each output line logged at debug and handed to `onLine`. A non-zero exit is a result, not
 * an error: the caller knows what the tool's codes mean.
 */
export function runTool(
  command: string,
  args: readonly string[],
  options: { log: Logger; signal?: AbortSignal; onLine?: (line: string) => void },
): Promise<ToolResult> {
  const { log } = options;
  log.info({ argv: [command, ...args].map((a) => redactString(a)).join(' ') }, 'running installer tool');
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      [...args],
      { signal: options.signal, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && typeof (err as { code?: unknown }).code === 'number') {
          resolve({ code: (err as { code: number }).code, stdout, stderr });
        } else if (err) {
          if (err.name === 'AbortError') reject(err);
          else reject(new OtaError('install_failed', `${command}: ${err.message}`, { cause: err }));
        } else resolve({ code: 0, stdout, stderr });
      },
    );
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        log.debug({ tool: command, line: redactString(line) }, 'installer tool output');
        options.onLine?.(line);
      });
    }
  });
}

/** The most telling line of a failed run: the tool's own error line, else the last line it wrote. */
export function failureLine(result: ToolResult, pattern: RegExp): string {
  const lines = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.filter((l) => pattern.test(l)).at(-1) ?? lines.at(-1) ?? `exit code ${result.code}`;
}
