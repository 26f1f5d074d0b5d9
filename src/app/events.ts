import type { Settings } from '../settings/schema.js';

/** Facts that modules announce to each other. Names are `domain.fact`, payloads are plain data. */
export interface AgentEvents {
  'cloud.connected': { at: number };
  'cloud.disconnected': { at: number };
  'settings.changed': { settings: Settings; changed: readonly string[] };
  /** Something the `info` document shows has changed (network, activation). */
  'info.changed': Record<string, never>;
  /** The setup state changed (docs/provisioning.md); `provisioned` is what "set up" means elsewhere. */
  'provisioning.changed': { state: string };
  /** An alarm began or ended (motion or PIR), with the id its `evt/motion` events carry. */
  'alarm.changed': { phase: 'start' | 'end'; alarmId: string; at: number };
  /** An alarm's picture was taken and stored (only while alarm pictures are on). */
  'alarm.picture': { alarmId: string; jpeg: Buffer; at: number };
}
