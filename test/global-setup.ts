import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { ROOT } from './helpers/daemon.js';

/** Tests run the compiled daemon as a real process, so it is built once before they start. */
export default function setup(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}
