import { readFile } from 'node:fs/promises';
import type { CloudConfig } from '../config/schema.js';
import { AgentError } from '../core/errors.js';
import type { SecretStore } from '../storage/secret-store.js';

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer | string;
  servername?: string;
}

const STORE_PREFIX = 'store:';

/** Reads the CA, client certificate and client key named in the config; the key may live in the secret store. */
export async function loadTlsMaterial(tls: CloudConfig['tls'], store: SecretStore): Promise<TlsMaterial> {
  const material: TlsMaterial = {};
  if (tls.caFile) material.ca = await readFile(tls.caFile);
  if (tls.certFile) material.cert = await readFile(tls.certFile);
  if (tls.keyFile?.startsWith(STORE_PREFIX)) {
    const name = tls.keyFile.slice(STORE_PREFIX.length);
    const key = store.get(name);
    if (!key)
      throw new AgentError(
        'config_invalid',
        `config: cloud.tls.keyFile: the secret store has no entry ${name}`,
      );
    material.key = key;
  } else if (tls.keyFile) {
    material.key = await readFile(tls.keyFile);
  }
  if (tls.servername) material.servername = tls.servername;
  return material;
}

export type TlsFailure = 'broker-unverified' | 'client-refused' | undefined;

/**
 * Tells our refusal of the broker (its certificate failed verification here) from the broker's refusal
 * of us (TLS alerts about our client certificate), so the log says which side to fix.
 */
export function classifyTlsError(err: unknown): TlsFailure {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  if (/^ERR_SSL_.*(CERTIFICATE|UNKNOWN_CA|BAD_CERT|HANDSHAKE_FAILURE|ACCESS_DENIED)/.test(code))
    return 'client-refused';
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO|ALTNAME/.test(code)) return 'broker-unverified';
  return undefined;
}
