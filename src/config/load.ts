import { readFile } from 'node:fs/promises';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AgentError, errorMessage } from '../core/errors.js';
import { type Config, ConfigSchema } from './schema.js';

/** Validates a parsed config object, filling defaults. Throws CONFIG_INVALID naming the first bad key. */
export function parseConfig(input: unknown): Config {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new AgentError('config_invalid', 'config: expected an object at the top level');
  }
  const value = Value.Default(ConfigSchema, withoutNulls(input));
  const first = Value.Errors(ConfigSchema, value).First();
  if (first) {
    const key = first.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    const got = first.value === undefined ? 'nothing' : JSON.stringify(first.value);
    if (/unexpected property/i.test(first.message)) {
      throw new AgentError('config_invalid', `config: ${key}: unknown key`, { details: { key } });
    }
    throw new AgentError('config_invalid', `config: ${key}: expected ${describe(first.schema)}, got ${got}`, {
      details: { key },
    });
  }
  return value as Config;
}

/** A YAML key with nothing after it (all its children commented out) means "use the defaults". */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== null)
      .map(([key, item]) => [key, withoutNulls(item)]),
  );
}

function describe(schema: TSchema): string {
  const options = schema.anyOf as TSchema[] | undefined;
  if (options?.every((o) => o.const !== undefined))
    return `one of ${options.map((o) => JSON.stringify(o.const)).join(', ')}`;
  const parts: string[] = [String(schema.type ?? 'a valid value')];
  if (schema.minimum !== undefined) parts.push(`>= ${schema.minimum}`);
  if (schema.maximum !== undefined) parts.push(`<= ${schema.maximum}`);
  if (schema.pattern !== undefined) parts.push(`matching ${schema.pattern}`);
  if (schema.minLength !== undefined) parts.push(`of at least ${schema.minLength} characters`);
  return parts.join(' ');
}

/** yaml is CommonJS: bundled, its functions sit on the namespace's default export. */
async function loadYamlParser(): Promise<(text: string) => unknown> {
  const namespace = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
  return namespace.parse ?? namespace.default?.parse;
}

/** Reads a YAML file, or a JSON one when the name ends in .json, and validates it. */
export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AgentError('config_unreadable', `config: cannot read ${path}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  let parsed: unknown;
  try {
    // JSON needs no parser library; YAML's is loaded only when a YAML file is used.
    parsed = path.endsWith('.json') ? JSON.parse(text) : ((await loadYamlParser())(text) ?? {});
  } catch (err) {
    throw new AgentError('config_invalid', `config: ${path} is not valid YAML/JSON: ${errorMessage(err)}`);
  }
  return parseConfig(parsed);
}
