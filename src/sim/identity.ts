import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { readJsonFile, writeJsonAtomic } from '../core/atomic-file.js';
import type { Identity } from '../device/identity.js';
import { FACTORY_DIR } from '../storage/erase.js';

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** The simulator's "factory": a serial, label code and MAC made once and kept in the data directory. */
export async function ensureSimIdentity(dataDir: string): Promise<{ path: string; identity: Identity }> {
  const path = join(dataDir, FACTORY_DIR, 'identity.json');
  const existing = (await readJsonFile(path)) as Identity | undefined;
  if (existing) return { path, identity: existing };
  const mac = randomBytes(6);
  // Locally administered, unicast: never collides with a real vendor's MAC.
  mac[0] = ((mac[0] ?? 0) | 0x02) & 0xfe;
  const identity: Identity = {
    serial: `SIM${randomBytes(5).toString('hex').toUpperCase()}`,
    verificationCode: Array.from({ length: 6 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join(
      '',
    ),
    mac: [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':'),
    model: 'IPC-SIM',
  };
  await writeJsonAtomic(path, identity);
  return { path, identity };
}
