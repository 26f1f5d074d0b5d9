import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../../core/logger.js';

const run = promisify(execFile);

/** What the camera says, and when (product.md flow 1 and contract section 4's failure reasons). */
export const PROMPTS = {
  waiting: 'Waiting for setup.',
  scanning: 'QR code detected. Connecting.',
  connecting: 'Connecting to Wi-Fi.',
  connected: 'Connected.',
  auth_error: 'Wrong Wi-Fi password.',
  ap_not_found: 'Wi-Fi network not found.',
  dhcp_failed: 'The router did not give an address.',
  cloud_unreachable: 'Cannot reach the cloud.',
  token_rejected: 'Binding failed. Please scan again.',
  invalid_qr: 'This QR code cannot be used.',
  softap: 'Setup hotspot is on.',
  factory_reset: 'Resetting to factory settings.',
} as const;

export type PromptName = keyof typeof PROMPTS;

export interface PromptTools {
  espeak?: string;
  ffmpeg?: string;
  log: Logger;
}

/**
 * Makes `<dir>/<name>.wav` for every prompt that is not there yet: spoken by espeak-ng when it is
 * installed, otherwise a short tone of its own pitch so each prompt is still told apart. Files already
 * there are kept, so a maker can ship recorded prompts in the same place.
 */
export async function ensurePrompts(
  dir: string,
  tools: PromptTools,
): Promise<'espeak' | 'tones' | 'present'> {
  await mkdir(dir, { recursive: true });
  const missing = (Object.keys(PROMPTS) as PromptName[]).filter((n) => !existsSync(join(dir, `${n}.wav`)));
  if (missing.length === 0) return 'present';
  const espeak = tools.espeak ?? 'espeak-ng';
  const useEspeak = await run(espeak, ['--version']).then(
    () => true,
    () => false,
  );
  if (!useEspeak) tools.log.warn({ espeak }, 'espeak-ng not found: voice prompts are tones');
  const files = missing.map((name) => join(dir, `${name}.wav`));
  const temps = files.map((f) => `${f}.tmp`);
  try {
    if (useEspeak) {
      for (const [i, name] of missing.entries()) {
        await run(espeak, ['-v', 'en', '-s', '150', '-w', temps[i] ?? '', PROMPTS[name]]);
      }
    } else {
      // One ffmpeg for all of them: on a small board each start costs more than the encoding.
      const pitches = missing.map((name) => 440 + 110 * Object.keys(PROMPTS).indexOf(name));
      await run(tools.ffmpeg ?? 'ffmpeg', toneArgs(pitches, temps));
    }
    for (const [i, file] of files.entries()) await rename(temps[i] ?? '', file);
  } finally {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
  }
  return useEspeak ? 'espeak' : 'tones';
}

/** One 0.4 s mono tone per output, as 16 kHz 16-bit WAVs of a few kilobytes each. */
export function toneArgs(frequencies: readonly number[], outs: readonly string[]): string[] {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  for (const f of frequencies)
    args.push('-f', 'lavfi', '-i', `sine=frequency=${f}:sample_rate=16000:duration=0.4`);
  for (const [i, out] of outs.entries())
    args.push('-map', `${i}:a`, '-ac', '1', '-c:a', 'pcm_s16le', '-f', 'wav', '-y', out);
  return args;
}
