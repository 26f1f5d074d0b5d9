import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FREE_MEMORY_ADDON,
  type FreeMemoryAddon,
  FreeMemoryReturn,
  freeMemoryAddon,
} from '../../src/core/free-memory.js';
import { createLogger } from '../../src/core/logger.js';
import { SecretValues } from '../../src/core/redact.js';
import { ROOT } from '../helpers/daemon.js';

const run = promisify(execFile);

function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'info',
    secrets: new SecretValues(),
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { log, lines };
}

/** The addon's interface, counting calls: for the schedule, not for what glibc does. */
function countingAddon(malloc: string): FreeMemoryAddon & { calls: number } {
  const addon = {
    calls: 0,
    returnFreeMemory: () => {
      addon.calls++;
      return true;
    },
    whichMalloc: () => malloc,
  };
  return addon;
}

describe('free memory back to the system', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the built addon gives a heap full of freed Buffers back to the kernel (glibc, this machine)', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--expose-gc', join(ROOT, 'test', 'core', 'helpers', 'freed-heap.mjs'), FREE_MEMORY_ADDON],
      { cwd: ROOT },
    );
    const result = JSON.parse(stdout) as { malloc: string; freed: number; returned: boolean; after: number };
    expect(result.malloc).toBe('glibc');
    expect(result.returned).toBe(true);
    // 32 MB of 32 KB Buffers were freed between Buffers that stay: glibc held on to them until the call.
    expect(result.freed - result.after).toBeGreaterThan(24 * 1024);
  });

  it('returns freed memory on a timer, and stops', () => {
    vi.useFakeTimers();
    const addon = countingAddon('glibc');
    const { log, lines } = capturedLog();
    const releaser = new FreeMemoryReturn(log, { addon, everyMs: 1000 });
    releaser.start();
    releaser.start();
    vi.advanceTimersByTime(3000);
    expect(addon.calls).toBe(3);
    expect(releaser.returns).toBe(3);
    releaser.stop();
    vi.advanceTimersByTime(3000);
    expect(addon.calls).toBe(3);
    expect(lines.map((l) => l.msg)).toEqual(['returning freed memory to the system']);
    expect(lines[0]).toMatchObject({ malloc: 'glibc', everyMs: 1000 });
  });

  it('leaves a C library that returns memory itself (musl) alone, and runs without the addon', () => {
    vi.useFakeTimers();
    const musl = countingAddon('other');
    const { log, lines } = capturedLog();
    new FreeMemoryReturn(log, { addon: musl, everyMs: 1000 }).start();
    const missing = freeMemoryAddon(join(ROOT, 'no-such-addon.node'));
    expect(missing).toMatch(/^addon not loaded: /);
    new FreeMemoryReturn(log, { addon: missing, everyMs: 1000 }).start();
    vi.advanceTimersByTime(5000);
    expect(musl.calls).toBe(0);
    expect(lines.map((l) => l.msg)).toEqual([
      'freed memory is returned by the C allocator itself',
      'freed memory stays with the C allocator',
    ]);
  });
});
