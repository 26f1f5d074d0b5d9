import { createRequire } from 'node:module';

/** Each addon file is loaded once per process: what it gave, or why it gave nothing. */
const loaded = new Map<string, object | string>();

/**
 * One of the project's own Node-API addons (docs/dependencies.md), or why it is not there: a file
 * that does not load (missing, built for another architecture) or that lacks one of `functions`. The
 * callers fall back to their TypeScript or dgram path and log the reason. Loaded once per path.
 */
export function loadAddon<T extends object>(
  path: string,
  functions: readonly (keyof T & string)[],
): T | string {
  const cached = loaded.get(path);
  if (cached !== undefined) return cached as T | string;
  let result: T | string;
  try {
    const addon = createRequire(import.meta.url)(path) as Record<string, unknown>;
    const missing = functions.filter((name) => typeof addon[name] !== 'function');
    result = missing.length === 0 ? (addon as T) : `no ${missing.join(', ')} in the addon`;
  } catch (err) {
    result = `addon not loaded: ${(err as Error).message.split('\n')[0]}`;
  }
  loaded.set(path, result);
  return result;
}
