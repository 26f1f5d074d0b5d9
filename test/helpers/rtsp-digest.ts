import { createHash, randomBytes } from 'node:crypto';

export interface RtspCredentials {
  username: string;
  password: string;
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** `name="value"` and `name=value` pairs of a WWW-Authenticate value (the test's own reading). */
function params(header: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const match of header.matchAll(/([a-zA-Z]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    const name = (match[1] ?? '').toLowerCase();
    if (!out.has(name)) out.set(name, match[2] ?? match[3] ?? '');
  }
  return out;
}

/**
 * A client's side of RTSP Digest (RFC 7616 with qop=auth, as ffmpeg does it, or RFC 2069 style without
 * qop, as live555 does it), written for the tests and the benchmarks, independent of the server's code.
 * Feed it each 401's WWW-Authenticate; it then signs every request with the next `nc`.
 */
export class DigestClient {
  readonly credentials: RtspCredentials;
  readonly useQop: boolean;
  #realm = '';
  #nonce = '';
  #qop = false;
  #nc = 0;

  constructor(credentials: RtspCredentials, options: { useQop?: boolean } = {}) {
    this.credentials = credentials;
    this.useQop = options.useQop ?? true;
  }

  get nonce(): string {
    return this.#nonce;
  }

  /** Takes the Digest challenge of a 401; false when there is none. */
  challenge(wwwAuthenticate: string | undefined): boolean {
    if (!wwwAuthenticate || !/^\s*Digest\s/i.test(wwwAuthenticate)) return false;
    const p = params(wwwAuthenticate);
    this.#realm = p.get('realm') ?? '';
    this.#nonce = p.get('nonce') ?? '';
    this.#qop = this.useQop && (p.get('qop') ?? '').split(',').some((q) => q.trim() === 'auth');
    this.#nc = 0;
    return this.#nonce !== '';
  }

  /** The Authorization value for a request, or undefined before any challenge. `nc` forces a count. */
  authorization(method: string, uri: string, nc?: number): string | undefined {
    if (this.#nonce === '') return undefined;
    const { username, password } = this.credentials;
    const ha1 = md5(`${username}:${this.#realm}:${password}`);
    const ha2 = md5(`${method}:${uri}`);
    const base = `Digest username="${username}", realm="${this.#realm}", nonce="${this.#nonce}", uri="${uri}"`;
    if (!this.#qop) return `${base}, response="${md5(`${ha1}:${this.#nonce}:${ha2}`)}", algorithm=MD5`;
    this.#nc = nc ?? this.#nc + 1;
    const count = this.#nc.toString(16).padStart(8, '0');
    const cnonce = randomBytes(8).toString('hex');
    const response = md5(`${ha1}:${this.#nonce}:${count}:${cnonce}:auth:${ha2}`);
    return `${base}, response="${response}", algorithm=MD5, qop=auth, nc=${count}, cnonce="${cnonce}"`;
  }
}

/** `rtsp://user:pass@host...` with the parts percent-encoded, for ffmpeg and GStreamer. */
export function withCredentials(url: string, credentials: RtspCredentials): string {
  const user = encodeURIComponent(credentials.username);
  const pass = encodeURIComponent(credentials.password);
  return url.replace(/^rtsp:\/\/(?:[^@/]*@)?/, `rtsp://${user}:${pass}@`);
}
