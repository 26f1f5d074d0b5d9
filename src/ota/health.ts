import type { EventEmitter } from 'node:events';
import { once } from 'node:events';
import type { AgentEvents } from '../app/events.js';
import { waitConnected } from '../cloud/connected.js';
import type { EventBus } from '../core/bus.js';

/** One condition the new firmware must reach before it is kept. `wait` rejects when `signal` aborts. */
export interface HealthCheck {
  name: string;
  wait(signal: AbortSignal): Promise<void>;
}

export function cloudCheck(link: { connected: boolean }, bus: EventBus<AgentEvents>): HealthCheck {
  return { name: 'cloud', wait: (signal) => waitConnected(link, bus, signal) };
}

/** Video is up once the main stream has shown its first keyframe with parameter sets. */
export function mediaCheck(
  hub: EventEmitter & { video: unknown },
  skip: () => string | undefined,
): HealthCheck {
  return {
    name: 'media',
    wait: async (signal) => {
      if (skip() !== undefined || hub.video !== undefined) return;
      await once(hub, 'track', { signal });
    },
  };
}

export type HealthOutcome = { ok: true } | { ok: false; failed: string[] };

/** All checks within the time limit; the ones still pending then are the reason. */
export async function waitHealthy(
  checks: readonly HealthCheck[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HealthOutcome> {
  const passed = new Set<string>();
  const limit = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  try {
    await Promise.all(checks.map((check) => check.wait(limit).then(() => passed.add(check.name))));
    return { ok: true };
  } catch (err) {
    if (signal.aborted) throw signal.reason ?? err;
    return { ok: false, failed: checks.filter((c) => !passed.has(c.name)).map((c) => c.name) };
  }
}
