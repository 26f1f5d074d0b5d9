import { Value } from '@sinclair/typebox/value';
import { type SettingKey, type Settings, SettingsSchema, SettingsShape } from './schema.js';

export interface Rejection {
  key: string;
  code: 'unknown_key' | 'invalid_value';
  message: string;
}

export interface MergeResult {
  settings: Settings;
  applied: SettingKey[];
  rejected: Rejection[];
}

/**
 * Applies a desired-state document to the current settings. Objects merge (a document may name only
 * `motion.sensitivity`), arrays and scalars replace. Each top-level key is accepted or rejected on its
 * own, with unknown keys rejected rather than dropped. Pure.
 */
export function mergeDesired(current: Settings, desired: Record<string, unknown>): MergeResult {
  const next = structuredClone(current) as Record<string, unknown>;
  const applied: SettingKey[] = [];
  const rejected: Rejection[] = [];
  for (const [key, value] of Object.entries(desired)) {
    if (!Object.hasOwn(SettingsShape, key)) {
      rejected.push({ key, code: 'unknown_key', message: `${key} is not a setting this device knows` });
      continue;
    }
    const settingKey = key as SettingKey;
    const schema = SettingsShape[settingKey];
    const candidate = Value.Default(schema, deepMerge(next[key], value));
    const problem = Value.Errors(schema, candidate).First();
    if (problem) {
      const where = problem.path ? `${key}${problem.path.replaceAll('/', '.')}` : key;
      rejected.push({
        key: where,
        code: problem.message.match(/unexpected property/i) ? 'unknown_key' : 'invalid_value',
        message: problem.message,
      });
      continue;
    }
    next[key] = candidate;
    applied.push(settingKey);
  }
  return { settings: next as Settings, applied, rejected };
}

export function defaultSettings(): Settings {
  return Value.Default(SettingsSchema, {}) as Settings;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = { ...structuredClone(base) };
  for (const [key, value] of Object.entries(patch)) out[key] = deepMerge(out[key], value);
  return out;
}
