/**
 * Which protocomm session an HTTP request belongs to, the way ESP-IDF's protocomm_httpd decides it:
 * a `Cookie: session=<id>` naming a known session continues it; without a cookie, the same TCP
 * connection continues it (esp_prov keeps one connection and sends no cookie); anything else starts a
 * new session, whose id goes back in `Set-Cookie` on its first reply.
 *
 * Unlike ESP-IDF:
 * - a session belongs to the client address that opened it: its cookie sent from another address is
 *   refused (`wrong_client`) and the session is not touched, so a sniffed cookie is worth nothing to a
 *   stranger on the open AP;
 * - a new session does not close the others: a few are kept, at most `MAX_PER_CLIENT` per address and
 *   `MAX_SESSIONS` in all, the least recently used forgotten first (the same address's own first),
 *   never the established one (see security2.ts). A flood from one address only churns its own.
 */
import { randomBytes } from 'node:crypto';
import { ProtocommError } from './errors.js';

export interface TransportSessionHooks {
  open(id: number): void;
  close(id: number): void;
  /** A session the transport must not forget to make room. */
  isProtected(id: number): boolean;
}

export interface ResolvedSession {
  id: number;
  fresh: boolean;
}

const COOKIE = /(?:^|;)\s*session=(\d{1,10})\s*(?:;|$)/;
export const MAX_SESSIONS = 16;
export const MAX_PER_CLIENT = 4;

export function sessionCookie(header: string | undefined): number | undefined {
  const match = header ? COOKIE.exec(header) : null;
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

interface Entry<Connection> {
  client: string;
  connection: Connection | undefined;
}

export class TransportSessions<Connection extends object> {
  readonly #hooks: TransportSessionHooks;
  /** In least-recently-used order. */
  readonly #sessions = new Map<number, Entry<Connection>>();

  constructor(hooks: TransportSessionHooks) {
    this.#hooks = hooks;
  }

  get size(): number {
    return this.#sessions.size;
  }

  #use(id: number, entry: Entry<Connection>): ResolvedSession {
    this.#sessions.delete(id);
    this.#sessions.set(id, entry);
    return { id, fresh: false };
  }

  /** Throws `wrong_client` for a known session's cookie sent from another address. */
  resolve(cookieHeader: string | undefined, connection: Connection, client: string): ResolvedSession {
    const cookie = sessionCookie(cookieHeader);
    const known = cookie === undefined ? undefined : this.#sessions.get(cookie);
    if (cookie !== undefined && known) {
      if (known.client !== client)
        throw new ProtocommError('wrong_client', 'session belongs to another client');
      // A client that keeps cookies is no longer tied to its connection.
      return this.#use(cookie, { client, connection: undefined });
    }
    if (cookie === undefined) {
      for (const [id, session] of this.#sessions) {
        if (session.connection === connection) return this.#use(id, session);
      }
    }
    let id: number;
    do {
      id = randomBytes(4).readUInt32BE(0);
      // 0 and 0xffffffff are what ESP-IDF uses for "no session".
    } while (id === 0 || id === 0xffffffff || this.#sessions.has(id));
    this.#sessions.set(id, { client, connection });
    this.#hooks.open(id);
    this.#evict(id, (entry) => entry.client === client, MAX_PER_CLIENT);
    this.#evict(id, () => true, MAX_SESSIONS);
    return { id, fresh: true };
  }

  /** Forgets the least recently used sessions matching `which` until at most `max` of them are left. */
  #evict(keep: number, which: (entry: Entry<Connection>) => boolean, max: number): void {
    let count = 0;
    for (const entry of this.#sessions.values()) if (which(entry)) count += 1;
    for (const [id, entry] of this.#sessions) {
      if (count <= max) break;
      if (id === keep || !which(entry) || this.#hooks.isProtected(id)) continue;
      this.#sessions.delete(id);
      this.#hooks.close(id);
      count -= 1;
    }
  }

  /** The connection went away: only a cookie can continue its session now. */
  connectionClosed(connection: Connection): void {
    for (const session of this.#sessions.values()) {
      if (session.connection === connection) session.connection = undefined;
    }
  }
}
