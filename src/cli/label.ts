import { resolve } from 'node:path';
import QRCode from 'qrcode';
import { writeFileAtomic } from '../core/atomic-file.js';
import { AgentError } from '../core/errors.js';
import { type Identity, loadIdentity } from '../device/identity.js';
import { ensureSimIdentity } from '../sim/identity.js';

/**
 * The label QR payload, contract section 2: `IPC:<serial>;V:<verificationCode>;M:<model>;;`.
 * The format has no escaping, so a model name that would break the fields is refused.
 */
export function labelPayload(identity: Identity, model = identity.model): string {
  if (!model) throw new AgentError('config_invalid', 'label: the identity has no model; pass --model');
  if (/[;:\\\n]/.test(model)) {
    throw new AgentError(
      'config_invalid',
      `label: model ${JSON.stringify(model)} must not contain ; : \\ or a newline`,
    );
  }
  return `IPC:${identity.serial};V:${identity.verificationCode};M:${model};;`;
}

/** The label as a PNG: error correction M (a smudged label still scans), 8 px modules, quiet zone 4. */
export function labelPng(payload: string): Promise<Buffer> {
  return QRCode.toBuffer(payload, { type: 'png', errorCorrectionLevel: 'M', scale: 8, margin: 4 });
}

/**
 * `ipcam-agent label [--identity <file>] [--out label.png] [--model <m>]`: prints the payload and
 * writes the PNG. Without --identity it is the simulator's factory identity (made on first use).
 */
export async function labelCommand(options: {
  identityFile?: string;
  dataDir: string;
  out: string;
  model?: string;
}): Promise<number> {
  const identity = options.identityFile
    ? await loadIdentity(resolve(options.identityFile))
    : (await ensureSimIdentity(resolve(options.dataDir))).identity;
  const payload = labelPayload(identity, options.model ?? identity.model);
  const out = resolve(options.out);
  await writeFileAtomic(out, await labelPng(payload), 0o644);
  process.stdout.write(`${payload}\n`);
  process.stderr.write(`label written to ${out}\n`);
  return 0;
}
