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

/** Node's TLS error codes that mean "this broker could not prove who it is". */
export function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO/.test(code)
  );
}
