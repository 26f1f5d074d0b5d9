import type { AgentEvents } from '../app/events.js';
import type { EventBus } from '../core/bus.js';

/** Resolves once the cloud link is up (at once if it is); rejects with the signal's reason on abort. */
export function waitConnected(
  link: { connected: boolean },
  bus: EventBus<AgentEvents>,
  signal: AbortSignal,
): Promise<void> {
  if (link.connected) return Promise.resolve();
  if (signal.aborted) return Promise.reject(signal.reason);
  const owner = {};
  return new Promise<void>((resolve, reject) => {
    const abort = () => {
      bus.removeListeners(owner);
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    bus.on(owner, 'cloud.connected', () => {
      bus.removeListeners(owner);
      signal.removeEventListener('abort', abort);
      resolve();
    });
  });
}
