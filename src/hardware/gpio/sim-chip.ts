import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The simulator's GPIO: a directory with the sysfs layout (gpioN/value, direction, edge, active_low),
 * so the simulated camera runs the same SysfsGpio code as a real one. Lines are created up front, as
 * on a board that exports them at boot. `set` plays the outside world (a finger on the button, the
 * PIR sensor); `level` shows what the daemon drives (the LED).
 */
export class SimGpioChip {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
    mkdirSync(root, { recursive: true });
    for (const name of ['export', 'unexport'])
      if (!existsSync(join(root, name))) writeFileSync(join(root, name), '');
  }

  addLine(line: number, level: 0 | 1 = 0): this {
    const dir = join(this.root, `gpio${line}`);
    mkdirSync(dir, { recursive: true });
    const files = { value: String(level), direction: 'in', edge: 'none', active_low: '0' };
    for (const [name, value] of Object.entries(files)) {
      if (!existsSync(join(dir, name))) writeFileSync(join(dir, name), `${value}\n`);
    }
    return this;
  }

  /** The electrical level of a line, as the kernel would report it. */
  set(line: number, level: 0 | 1): void {
    writeFileSync(join(this.root, `gpio${line}`, 'value'), `${level}\n`);
  }

  level(line: number): 0 | 1 {
    return readFileSync(join(this.root, `gpio${line}`, 'value'), 'utf8').trim() === '1' ? 1 : 0;
  }

  attribute(line: number, name: 'direction' | 'edge' | 'active_low'): string {
    return readFileSync(join(this.root, `gpio${line}`, name), 'utf8').trim();
  }
}
