import { execFile } from 'node:child_process';
import type { Logger } from '../../core/logger.js';
import { redactString } from '../../core/redact.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a network tool to completion with an argv array (never a shell). A non-zero exit is a result:
 * the caller knows what the tool's codes mean. A tool that cannot be started at all is an error.
 */
export function execTool(
  command: string,
  args: readonly string[],
  options: { log: Logger; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<ExecResult> {
  options.log.debug({ argv: [command, ...args].map((a) => redactString(a)).join(' ') }, 'running tool');
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      {
        encoding: 'utf8',
        timeout: options.timeoutMs,
        maxBuffer: 1024 * 1024,
        env: options.env ?? process.env,
        shell: false,
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'number') return resolve({ code, stdout, stderr });
        // Killed by our timeout: report it like nmcli's own "timeout expired" exit code.
        if ((err as { killed?: boolean }).killed)
          return resolve({ code: -1, stdout, stderr: 'killed: timeout' });
        reject(err);
      },
    );
  });
}
