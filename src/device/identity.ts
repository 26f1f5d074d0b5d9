import { type Static, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readJsonFile } from '../core/atomic-file.js';
import { AgentError } from '../core/errors.js';

/** Written at the factory, read-only afterwards. The serial is the device id. */
export const IdentitySchema = T.Object({
  serial: T.String({ pattern: '^[A-Za-z0-9_-]{4,64}$' }),
  verificationCode: T.String({ pattern: '^[A-Za-z0-9]{6}$' }),
  mac: T.String({ pattern: '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' }),
  model: T.Optional(T.String({ minLength: 1 })),
});

export type Identity = Static<typeof IdentitySchema>;

export async function loadIdentity(path: string): Promise<Identity> {
  const raw = await readJsonFile(path).catch((err: unknown) => {
    throw new AgentError('config_unreadable', `identity: cannot read ${path}`, { cause: err });
  });
  if (raw === undefined) throw new AgentError('config_unreadable', `identity: ${path} does not exist`);
  const problem = Value.Errors(IdentitySchema, raw).First();
  if (problem) {
    throw new AgentError(
      'config_invalid',
      `identity: ${problem.path.slice(1) || '(root)'}: ${problem.message}`,
    );
  }
  return raw as Identity;
}

/** The contract makes the serial the device id; the schema's pattern keeps it topic-safe. */
export function deviceIdOf(identity: Identity): string {
  return identity.serial;
}
