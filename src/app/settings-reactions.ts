import type { EventBus } from '../core/bus.js';
import type { Module } from '../core/lifecycle.js';
import type { AgentEvents } from './events.js';

/** A module that follows the owner's settings (streams, RTSP, WebRTC). */
export interface FollowsSettings {
  apply(changed: readonly string[]): Promise<void>;
}

/**
 * Passes each settings change to the modules that follow settings, one after another in this order;
 * a change of the setup state reaches them as the change of a pseudo-key `setup`.
 */
export function settingsReactions(
  bus: EventBus<AgentEvents>,
  followers: readonly (FollowsSettings | undefined)[],
): Module {
  const reactions: Module = {
    name: 'settings-reactions',
    start: async () => {
      const apply = async (changed: readonly string[]) => {
        for (const follower of followers) await follower?.apply(changed);
      };
      bus.on(reactions, 'settings.changed', ({ changed }) => apply(changed));
      bus.on(reactions, 'provisioning.changed', () => apply(['setup']));
    },
    stop: async () => bus.removeListeners(reactions),
  };
  return reactions;
}
