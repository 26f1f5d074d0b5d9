import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers/daemon.js';

/** Tests run the compiled daemon as a real process, so it is built once before they start. */
export default function setup(): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}
