import { resolve } from 'node:path';
import { AgentError } from '../core/errors.js';
import { ensureSimIdentity } from '../sim/identity.js';
import { ensureSimKey, SIM_CLOUD_KEY } from '../sim/keys.js';
import { type Right, signViewerToken } from '../webrtc/token.js';

/**
 * `ipcam-agent token --rights live,talk [--ttl 300]`: a viewer token from the simulator's cloud key
 * (`--rights formatStorage`: the confirmation `cmd/formatStorage` asks for).
 */
export async function tokenCommand(options: {
  dataDir: string;
  rights: string;
  ttlSeconds: number;
}): Promise<number> {
  const rights = options.rights.split(',').map((r) => r.trim());
  for (const right of rights) {
    if (right !== 'live' && right !== 'talk' && right !== 'formatStorage')
      throw new AgentError(
        'bad_request',
        `--rights: unknown right ${JSON.stringify(right)} (live, talk, formatStorage)`,
      );
  }
  const dataDir = resolve(options.dataDir);
  const { identity } = await ensureSimIdentity(dataDir);
  const { privateKey } = await ensureSimKey(dataDir, SIM_CLOUD_KEY);
  process.stdout.write(
    `${signViewerToken({ sub: identity.serial, rights: rights as Right[], ttlSeconds: options.ttlSeconds }, privateKey)}\n`,
  );
  return 0;
}
