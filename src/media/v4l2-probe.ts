import { execFile } from 'node:child_process';
import { parseV4l2Formats, type V4l2Format } from './v4l2-formats.js';

/** `v4l2-ctl --device <dev> --list-formats-ext` (argv array, bounded), parsed. */
export function listV4l2Formats(
  v4l2ctlPath: string,
  device: string,
  timeoutMs = 10_000,
): Promise<V4l2Format[]> {
  return new Promise((resolve, reject) => {
    execFile(
      v4l2ctlPath,
      ['--device', device, '--list-formats-ext'],
      { timeout: timeoutMs, maxBuffer: 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout) => (err ? reject(err) : resolve(parseV4l2Formats(String(stdout)))),
    );
  });
}
