/**
 * Scrubbing of secrets from anything that may reach a log line. Three nets, because any one alone
 * misses cases: keys whose name says "secret", credentials embedded in URLs, and the exact values the
 * secret store holds (so a password that ends up inside an unrelated message is still caught).
 */
export const REDACTED = '[redacted]';

// Over-redacting (`monkey`, `bypass`) is harmless; missing a secret is not.
const SECRET_KEY =
  /(pass(word|wd|phrase)?|secret|token|psk|credentials?|authorization|cookie|signature|[a-z_-]key)$/i;
// The password part runs to the last `@` of the authority: passwords may contain `@`.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):([^\s/]*)@/gi;
const INLINE_SECRET = /([a-z0-9_-]*(?:password|passwd|pass|passphrase|token|secret|psk|key))=([^\s&;,]+)/gi;
const PEM_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;

/** Values known to be secret (Wi-Fi passwords, tokens...) registered at run time by whoever holds them. */
export class SecretValues {
  readonly #values = new Set<string>();

  add(value: string | undefined): void {
    // Very short values would redact ordinary words; the key-name rules still cover them.
    if (value && value.length >= 4) this.#values.add(value);
  }

  clear(): void {
    this.#values.clear();
  }

  scrub(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is hidden whole.
    for (const value of [...this.#values].sort((a, b) => b.length - a.length)) {
      if (out.includes(value)) out = out.split(value).join(REDACTED);
    }
    return out;
  }
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function redactString(text: string, known?: SecretValues): string {
  const out = text
    .replace(PEM_BLOCK, REDACTED)
    .replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(INLINE_SECRET, (_m, name: string) => `${name}=${REDACTED}`);
  return known ? known.scrub(out) : out;
}

/** Returns a deep copy with secrets replaced; Errors become plain objects so their messages are scrubbed too. */
export function redactValue(value: unknown, known?: SecretValues, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (typeof value === 'string') return redactString(value, known);
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (value instanceof Error) {
    const plain: Record<string, unknown> = {
      type: value.name,
      message: redactString(value.message, known),
      stack: value.stack ? redactString(value.stack, known) : undefined,
    };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) plain.code = code;
    if (value.cause !== undefined) plain.cause = redactValue(value.cause, known, depth + 1);
    return plain;
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, known, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // Keys are scrubbed too: a map keyed by a secret value must not print it.
    const name = known ? known.scrub(key) : key;
    out[name] =
      isSecretKey(key) && item !== undefined && item !== null
        ? REDACTED
        : redactValue(item, known, depth + 1);
  }
  return out;
}
