import type { EventEmitter } from 'node:events';

/** Resolves once `emitter` has emitted `event` `count` more times; rejects after `timeoutMs`. */
export function moreEvents(
  emitter: EventEmitter,
  event: string,
  count: number,
  timeoutMs = 10_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${seen} of ${count} '${event}' events`));
    }, timeoutMs);
    const listener = () => {
      if (++seen < count) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve();
    };
    emitter.on(event, listener);
  });
}
