/**
 * Which protocomm session an HTTP request belongs to, the way ESP-IDF's protocomm_httpd decides it:
 * a `Cookie: session=<id>` naming a known session continues it; without a cookie, the same TCP
 * connection continues it (esp_prov keeps one connection and sends no cookie); anything else starts a
 * new session, whose id goes back in `Set-Cookie` on its first reply. Unlike ESP-IDF, a new session
 * does not close the others: a few are kept, the least recently used forgotten first, never the
 * established one (see security2.ts).
 */
import { randomBytes } from 'node:crypto';

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
const MAX_SESSIONS = 4;

export function sessionCookie(header: string | undefined): number | undefined {
  const match = header ? COOKIE.exec(header) : null;
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export class TransportSessions<Connection extends object> {
  readonly #hooks: TransportSessionHooks;
  /** In least-recently-used order. */
  readonly #sessions = new Map<number, { connection: Connection | undefined }>();

  constructor(hooks: TransportSessionHooks) {
    this.#hooks = hooks;
  }

  #use(id: number, connection: Connection | undefined): ResolvedSession {
    this.#sessions.delete(id);
    this.#sessions.set(id, { connection });
    return { id, fresh: false };
  }

  resolve(cookieHeader: string | undefined, connection: Connection): ResolvedSession {
    const cookie = sessionCookie(cookieHeader);
    // A client that keeps cookies is no longer tied to its connection.
    if (cookie !== undefined && this.#sessions.has(cookie)) return this.#use(cookie, undefined);
    if (cookie === undefined) {
      for (const [id, session] of this.#sessions) {
        if (session.connection === connection) return this.#use(id, connection);
      }
    }
    let id: number;
    do {
      id = randomBytes(4).readUInt32BE(0);
      // 0 and 0xffffffff are what ESP-IDF uses for "no session".
    } while (id === 0 || id === 0xffffffff || this.#sessions.has(id));
    this.#sessions.set(id, { connection });
    this.#hooks.open(id);
    for (const old of this.#sessions.keys()) {
      if (this.#sessions.size <= MAX_SESSIONS) break;
      if (old === id || this.#hooks.isProtected(old)) continue;
      this.#sessions.delete(old);
      this.#hooks.close(old);
    }
    return { id, fresh: true };
  }

  /** The connection went away: only a cookie can continue its session now. */
  connectionClosed(connection: Connection): void {
    for (const session of this.#sessions.values()) {
      if (session.connection === connection) session.connection = undefined;
    }
  }
}
