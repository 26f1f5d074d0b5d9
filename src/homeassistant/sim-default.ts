import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { DeviceStateSchema } from '../cloud/state-sync.js';
import { readJsonFile, writeJsonAtomic } from '../core/atomic-file.js';

/**
 * In the simulator, Home Assistant discovery is on and goes to the simulator's broker (contract
 * section 6): the owner's `homeAssistant` setting is filled in once, when the saved state has none.
 * A setting the owner made (even `enabled: false`) is left as it is, and so is a state file that
 * does not read or validate: it is the agent's to set aside and fail closed on, untouched.
 * Returns the broker and prefix Home Assistant discovery goes to, for the banner.
 */
export async function simHomeAssistantDefault(
  dataDir: string,
  broker: string,
): Promise<{ broker: string; prefix: string } | undefined> {
  const path = join(dataDir, 'state.json');
  let raw: unknown;
  try {
    raw = (await readJsonFile(path)) ?? { schemaVersion: 1, desiredVersion: 0, settings: {} };
  } catch {
    return undefined;
  }
  const state = Value.Default(DeviceStateSchema, structuredClone(raw));
  if (!Value.Check(DeviceStateSchema, state)) return undefined;
  const saved = (raw as { settings: Record<string, unknown> }).settings;
  if (saved.homeAssistant === undefined) {
    saved.homeAssistant = { enabled: true, broker };
    await writeJsonAtomic(path, raw);
    return { broker, prefix: state.settings.homeAssistant.discoveryPrefix };
  }
  const { homeAssistant } = state.settings;
  return homeAssistant.enabled && homeAssistant.broker
    ? { broker: homeAssistant.broker, prefix: homeAssistant.discoveryPrefix }
    : undefined;
}
