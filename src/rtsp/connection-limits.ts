/** What the limits need to know of a connection. */
export interface Limited {
  readonly remote: string;
  /** Undefined until a request on it passed authentication. */
  readonly authTag: string | undefined;
  readonly sessions: { readonly size: number };
}

/**
 * The open connections, capped in total and per peer address. At a cap, a newcomer does not simply
 * bounce: the oldest connection that has neither authenticated nor set up a session gives way (from
 * the address holding the most connections, at the total cap), so idle connections from a flooding
 * neighbour cannot keep the owner's player out. Authenticated connections are never evicted.
 */
export class ConnectionLimits<C extends Limited = Limited> {
  readonly #max: number;
  readonly #maxPerIp: number;
  readonly #open = new Set<C>();
  readonly #perIp = new Map<string, number>();
  #refused = 0;
  #evicted = 0;

  constructor(max: number, maxPerIp: number) {
    this.#max = max;
    this.#maxPerIp = maxPerIp;
  }

  get size(): number {
    return this.#open.size;
  }

  all(): C[] {
    return [...this.#open];
  }

  /**
   * Makes room for a connection from `remote`: undefined when there was room, the connection to close
   * when one had to give way (already forgotten here), false when the newcomer must be refused.
   */
  makeRoom(remote: string): C | undefined | false {
    let victim: C | undefined;
    if ((this.#perIp.get(remote) ?? 0) >= this.#maxPerIp) {
      victim = this.#pick((c) => c.remote === remote);
    } else if (this.#open.size >= this.#max) {
      victim = this.#pick(() => true);
    } else {
      return undefined;
    }
    if (!victim) {
      this.#refused += 1;
      return false;
    }
    this.#evicted += 1;
    this.remove(victim);
    return victim;
  }

  add(connection: C): void {
    this.#open.add(connection);
    this.#perIp.set(connection.remote, (this.#perIp.get(connection.remote) ?? 0) + 1);
  }

  /** Idempotent: eviction forgets a connection before its socket reports the close. */
  remove(connection: C): void {
    if (!this.#open.delete(connection)) return;
    const count = (this.#perIp.get(connection.remote) ?? 1) - 1;
    if (count <= 0) this.#perIp.delete(connection.remote);
    else this.#perIp.set(connection.remote, count);
  }

  /** Refusals and evictions since the last call (for a periodic log line instead of one per event). */
  takeCounts(): { refused: number; evicted: number } {
    const counts = { refused: this.#refused, evicted: this.#evicted };
    this.#refused = 0;
    this.#evicted = 0;
    return counts;
  }

  /** The oldest evictable connection among `eligible`, from the address that holds the most. */
  #pick(eligible: (connection: C) => boolean): C | undefined {
    let best: C | undefined;
    let bestCount = 0;
    for (const connection of this.#open) {
      if (connection.authTag !== undefined || connection.sessions.size > 0 || !eligible(connection)) continue;
      const count = this.#perIp.get(connection.remote) ?? 0;
      if (count > bestCount) {
        best = connection;
        bestCount = count;
      }
    }
    return best;
  }
}
