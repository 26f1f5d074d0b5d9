import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Static, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readJsonFile, writeJsonAtomic } from '../../core/atomic-file.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RunningFirmware } from '../installer.js';
import { readManifest } from './manifest.js';

const Slot = T.Union([T.Literal('a'), T.Literal('b')]);
export type Slot = Static<typeof Slot>;

/**
 * `boot.json`, the A/B directory's "bootloader environment". Rewriting it atomically is the switch.
 * `primary` is the confirmed slot; `trial` a new slot allowed `triesLeft` more boots before the boot
 * step falls back to `primary`.
 */
export const BootState = T.Object({
  schemaVersion: T.Literal(1),
  primary: Slot,
  booted: Slot,
  trial: T.Optional(T.Object({ slot: Slot, triesLeft: T.Integer({ minimum: 0 }) })),
  fellBack: T.Optional(T.Object({ slot: Slot, reason: T.String(), at: T.Integer() })),
});
export type BootState = Static<typeof BootState>;

export const FACTORY_BOOT: BootState = { schemaVersion: 1, primary: 'a', booted: 'a' };

export const otherSlot = (slot: Slot): Slot => (slot === 'a' ? 'b' : 'a');

export async function readBoot(root: string): Promise<BootState> {
  const raw = await readJsonFile(join(root, 'boot.json'));
  if (raw === undefined) return { ...FACTORY_BOOT };
  if (!Value.Check(BootState, raw)) throw new Error(`${join(root, 'boot.json')} is not a valid boot state`);
  return raw;
}

export async function writeBoot(root: string, state: BootState): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  await writeJsonAtomic(join(root, 'boot.json'), state);
}

/**
 * The bootloader's part, run once at the start of every agent run: boots the trial slot while it has
 * tries left (using one), else falls back to the primary; then reads what the booted slot holds. A
 * slot without a manifest is the factory slot, which runs the version this package was built as.
 */
export async function bootAbSlot(
  root: string,
  factory: { version: string; versionCode: number },
  log: Logger,
): Promise<RunningFirmware> {
  let state: BootState;
  try {
    state = await readBoot(root);
  } catch (err) {
    log.error({ err }, 'A/B boot state unreadable; booting the factory slot');
    state = { ...FACTORY_BOOT };
  }
  const next = chooseSlot(state);
  if (next.trial?.slot === next.booted) {
    try {
      const manifest = await readManifest(join(root, next.booted));
      if (!manifest) throw new Error('no manifest.json');
    } catch (err) {
      log.error({ err: errorMessage(err), slot: next.booted }, 'trial slot is unusable; falling back');
      Object.assign(next, fallBack(next, 'bad_manifest'));
    }
  }
  if (JSON.stringify(next) !== JSON.stringify(state)) await writeBoot(root, next);
  const fellBack = next.fellBack && next.fellBack !== state.fellBack ? next.fellBack : undefined;
  if (fellBack)
    log.warn({ from: fellBack.slot, to: next.booted, reason: fellBack.reason }, 'A/B boot fell back');
  const manifest = await readManifest(join(root, next.booted)).catch((err: unknown) => {
    log.error({ err, slot: next.booted }, 'booted slot manifest unreadable; reporting the factory version');
    return undefined;
  });
  return {
    version: manifest?.version ?? factory.version,
    versionCode: manifest?.versionCode ?? factory.versionCode,
    slot: next.booted,
    fellBack: fellBack ? { slot: fellBack.slot, reason: fellBack.reason } : undefined,
    // Here every agent run is a boot of the slot.
    bootId: randomUUID(),
  };
}

function chooseSlot(state: BootState): BootState {
  const { trial } = state;
  if (!trial) return { ...state, booted: state.primary };
  if (trial.triesLeft > 0)
    return { ...state, booted: trial.slot, trial: { ...trial, triesLeft: trial.triesLeft - 1 } };
  return fallBack(state, 'boot_attempts_exhausted');
}

export function fallBack(state: BootState, reason: string): BootState {
  const slot = state.trial?.slot ?? state.booted;
  const { trial: _trial, ...rest } = state;
  return { ...rest, booted: state.primary, fellBack: { slot, reason, at: Date.now() } };
}
