import type { Settings } from '../settings/schema.js';

/** Facts that modules announce to each other. Names are `domain.fact`, payloads are plain data. */
export interface AgentEvents {
  'cloud.connected': { at: number };
  'cloud.disconnected': { at: number };
  'settings.changed': { settings: Settings; changed: readonly string[] };
  /** Something the `info` document shows has changed (network, activation). */
  'info.changed': Record<string, never>;
}
