import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
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

/** The addon's interface, counting calls: for the schedule, not for what glibc or the kernel do. */
function countingAddon(malloc: string, droppedKb = 1024): FreeMemoryAddon & { calls: number; drops: number } {
  const addon = {
    calls: 0,
    drops: 0,
    returnFreeMemory: () => {
      addon.calls++;
      return true;
    },
    whichMalloc: () => malloc,
    dropFilePages: () => {
      addon.drops++;
      return droppedKb;
    },
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

  it('the built addon unmaps the file pages Node used while starting, and Node runs on unchanged', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(ROOT, 'test', 'core', 'helpers', 'file-pages.mjs'), FREE_MEMORY_ADDON],
      { cwd: ROOT },
    );
    const result = JSON.parse(stdout) as {
      before: number;
      droppedKb: number;
      after: number;
      first: Record<string, unknown>;
      again: Record<string, unknown>;
    };
    // Seen here: 43 MB (Node 20) and 50 MB (Node 24) of file pages resident after starting, 5 MB after.
    expect(result.droppedKb).toBeGreaterThan(16 * 1024);
    expect(result.before - result.after).toBeGreaterThan(16 * 1024);
    expect(result.again).toEqual(result.first);
    expect(result.again.sha256).toBe(createHash('sha256').update('ipcam-agent').digest('hex'));
  });

  it('unmaps file pages once the daemon has started, then every few minutes, with or without glibc', () => {
    vi.useFakeTimers();
    const glibc = countingAddon('glibc', 22 * 1024);
    const musl = countingAddon('other');
    const { log, lines } = capturedLog();
    const releaser = new FreeMemoryReturn(log, {
      addon: glibc,
      everyMs: 1000,
      dropFilePagesAfterMs: 20_000,
      dropFilePagesEveryMs: 300_000,
    });
    releaser.start();
    new FreeMemoryReturn(log, { addon: musl, dropFilePagesAfterMs: 20_000 }).start();
    vi.advanceTimersByTime(19_999);
    expect([glibc.drops, musl.drops]).toEqual([0, 0]);
    vi.advanceTimersByTime(1);
    expect([glibc.drops, musl.drops]).toEqual([1, 1]);
    vi.advanceTimersByTime(299_999);
    expect(glibc.drops).toBe(1);
    vi.advanceTimersByTime(1);
    expect(releaser.drops).toBe(2);
    releaser.stop();
    vi.advanceTimersByTime(600_000);
    expect(glibc.drops).toBe(2);
    const started = lines.filter((l) => l.msg === 'unmapped the file pages used while starting');
    expect(started).toHaveLength(2);
    expect(started[0]).toMatchObject({ mb: 22 });
  });

  it('stops unmapping where /proc/self/smaps cannot be read, and says so', () => {
    vi.useFakeTimers();
    const blind = countingAddon('glibc', -1);
    const { log, lines } = capturedLog();
    new FreeMemoryReturn(log, {
      addon: blind,
      dropFilePagesAfterMs: 1000,
      dropFilePagesEveryMs: 1000,
    }).start();
    vi.advanceTimersByTime(10_000);
    expect(blind.drops).toBe(1);
    expect(lines.map((l) => l.msg)).toContain('file pages not unmapped: /proc/self/smaps unreadable');
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
    expect(addon.drops).toBe(0);
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
