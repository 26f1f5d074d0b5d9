import { createRequire } from 'node:module';

/** Each addon file is loaded once per process: its exports, or why it did not load. */
const loaded = new Map<string, Record<string, unknown> | string>();

/**
 * One of the project's own Node-API addons (docs/dependencies.md), or why it is not there: a file
 * that does not load (missing, built for another architecture) or that lacks one of `functions`. The
 * callers fall back to their TypeScript or dgram path and log the reason. The file is loaded once per
 * path; the functions are checked at every call, for what that caller needs.
 */
export function loadAddon<T extends object>(
  path: string,
  functions: readonly (keyof T & string)[],
): T | string {
  let addon = loaded.get(path);
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(path) as Record<string, unknown>;
    } catch (err) {
      addon = `addon not loaded: ${(err as Error).message.split('\n')[0]}`;
    }
    loaded.set(path, addon);
  }
  if (typeof addon === 'string') return addon;
  const exports = addon;
  const missing = functions.filter((name) => typeof exports[name] !== 'function');
  return missing.length === 0 ? (addon as T) : `no ${missing.join(', ')} in the addon`;
}
