import { randomUUID } from 'node:crypto';
import { Observer, type Seen } from '../helpers/observer.js';

/** Every retained message under `filter` right now: a fresh subscriber, then a marker to know it has them all. */
export async function retainedUnder(url: string, filter: string): Promise<Seen[]> {
  const marker = `test/marker/${randomUUID()}`;
  const fresh = await Observer.connect(url, [filter, marker]);
  try {
    const seen = fresh.next((m) => m.topic === marker, 'the marker');
    // Retained messages are sent on subscribe, before anything published after the SUBACK.
    await fresh.client.publishAsync(marker, 'x', { qos: 1 });
    await seen;
    return fresh.seen.filter((m) => m.retain && m.topic !== marker);
  } finally {
    await fresh.close();
  }
}
