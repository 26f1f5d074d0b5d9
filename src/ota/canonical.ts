/**
 * The canonical form that job signatures cover: JSON with object keys sorted recursively (by UTF-16
 * code units, JavaScript's default string order), no whitespace, strings and numbers written as
 * JSON.stringify writes them, arrays in their order. For the values JSON.parse produces this is the
 * same text as RFC 8785 (JCS), so a signer in another language can use a JCS library.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`not representable in JSON: ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/** The bytes a job signature is made over: the canonical document without its `signature` member. */
export function signedBytes(document: Record<string, unknown>): Buffer {
  const { signature: _signature, ...rest } = document;
  return Buffer.from(canonicalJson(rest), 'utf8');
}
