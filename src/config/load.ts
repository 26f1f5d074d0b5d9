import { readFile } from 'node:fs/promises';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { brokerOptions } from '../cloud/broker-url.js';
import { AgentError, errorMessage } from '../core/errors.js';
import { redactString } from '../core/redact.js';
import { mediaSourceProblem } from '../media/config.js';
import { type Config, ConfigSchema } from './schema.js';

/** Turns a config object of schema version n into one of version n+1 (before validation). */
export type ConfigMigration = (previous: Record<string, unknown>) => Record<string, unknown>;

/** The config `schemaVersion` this build reads: the literal in ConfigSchema. */
export const CONFIG_VERSION: number = ConfigSchema.properties.schemaVersion.const;

/**
 * `[n]` turns a version-n config into version n+1. Empty: version 1 is the only one. To change the
 * config schema incompatibly, bump the literal in ConfigSchema and add the step here; a config written
 * for an older build then still starts the daemon (the file itself is never rewritten).
 */
export const CONFIG_MIGRATIONS: Readonly<Record<number, ConfigMigration>> = {};

/**
 * Brings a parsed config up to `version` through `migrations`. A config without `schemaVersion` is a
 * version 1 config (the key was optional then). A newer version than the build reads, or one it has no
 * way up from, stops with CONFIG_INVALID naming `schemaVersion`: guessing could turn a setting into
 * another one.
 */
export function migrateConfig(
  input: Record<string, unknown>,
  version = CONFIG_VERSION,
  migrations: Readonly<Record<number, ConfigMigration>> = CONFIG_MIGRATIONS,
): Record<string, unknown> {
  const from = input.schemaVersion ?? 1;
  const invalid = (message: string) =>
    new AgentError('config_invalid', `config: schemaVersion: ${message}`, {
      details: { key: 'schemaVersion' },
    });
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 1) {
    throw invalid(`expected an integer >= 1, got ${JSON.stringify(from)}`);
  }
  if (from > version) {
    throw invalid(`${from} is newer than this firmware reads (${version}); use a config written for it`);
  }
  let config = input;
  for (let v = from; v < version; v += 1) {
    const migrate = migrations[v];
    if (!migrate) throw invalid(`no migration from version ${v} to ${v + 1}`);
    config = { ...migrate(structuredClone(config)), schemaVersion: v + 1 };
  }
  return config;
}

/** Validates a parsed config object, filling defaults. Throws CONFIG_INVALID naming the first bad key. */
export function parseConfig(input: unknown): Config {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new AgentError('config_invalid', 'config: expected an object at the top level');
  }
  const migrated = migrateConfig(withoutNulls(input) as Record<string, unknown>);
  const value = Value.Default(ConfigSchema, migrated);
  const top = Value.Errors(ConfigSchema, value).First();
  if (top) {
    const first = inUnion(top);
    const key = first.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    // A URL with a password in it (a mistake the message must not repeat) is shown redacted.
    const got = first.value === undefined ? 'nothing' : redactString(JSON.stringify(first.value));
    if (/unexpected property/i.test(first.message)) {
      throw new AgentError('config_invalid', `config: ${key}: unknown key`, { details: { key } });
    }
    throw new AgentError('config_invalid', `config: ${key}: expected ${describe(first.schema)}, got ${got}`, {
      details: { key },
    });
  }
  const config = value as Config;
  try {
    brokerOptions(config.cloud.url);
  } catch (err) {
    // The pattern checks the scheme; a host the URL parser refuses (`mqtts://[`) is caught here.
    const got = redactString(JSON.stringify(config.cloud.url));
    throw new AgentError('config_invalid', `config: cloud.url: ${errorMessage(err)}, got ${got}`, {
      details: { key: 'cloud.url' },
    });
  }
  const media = mediaSourceProblem(config.media.source);
  if (media)
    throw new AgentError('config_invalid', `config: ${media.key}: ${media.message}`, {
      details: { key: media.key },
    });
  return config;
}

interface SchemaError {
  path: string;
  message: string;
  schema: TSchema;
  value: unknown;
}

/**
 * "media.source: expected a valid value" says nothing: when the error is a union's (the source
 * kinds, the pipe inputs), the member the value meant (the one whose `kind` it names, or whose
 * required keys it has) is validated instead, and its own first error named, down to the key.
 */
function inUnion(error: SchemaError, depth = 0): SchemaError {
  const members = error.schema.anyOf as TSchema[] | undefined;
  const value = error.value;
  if (!members || depth > 4 || value === null || typeof value !== 'object' || Array.isArray(value))
    return error;
  const record = value as Record<string, unknown>;
  const meant = members.filter((m) => {
    const props = (m.properties ?? {}) as Record<string, TSchema>;
    const kind = props.kind?.const;
    if (kind !== undefined) return record.kind === kind;
    const required = (m.required ?? []) as string[];
    return required.length > 0 && required.every((k) => k in record);
  });
  // None meant by kind or by all of its required keys (one left out): the one sharing most keys.
  const member = meant.length === 1 ? meant[0] : meant.length === 0 ? closest(members, record) : undefined;
  if (!member) return error;
  const inner = Value.Errors(member, value).First();
  if (!inner) return error;
  return inUnion({ ...inner, path: `${error.path}${inner.path}` }, depth + 1);
}

/** The union member whose keys the value has the most of, when one has more than all the others. */
function closest(members: TSchema[], value: Record<string, unknown>): TSchema | undefined {
  const scored = members
    .map((m) => ({ m, n: Object.keys((m.properties ?? {}) as object).filter((k) => k in value).length }))
    .sort((a, b) => b.n - a.n);
  const [best, next] = scored;
  return best && best.n > 0 && best.n > (next?.n ?? 0) ? best.m : undefined;
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
  if (schema.multipleOf !== undefined) parts.push(`a multiple of ${schema.multipleOf}`);
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
