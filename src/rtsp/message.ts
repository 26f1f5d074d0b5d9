/**
 * RTSP wire format (RFC 2326): an incremental request parser that also demultiplexes interleaved binary
 * frames, response serialisation, and the Transport header and URL parsing a server needs. No I/O here.
 */

export interface RtspRequest {
  method: string;
  uri: string;
  version: string;
  /** Names lower-cased; repeated headers joined with ', '. */
  headers: Map<string, string>;
  body: Buffer;
}

export type RtspInput =
  | { type: 'request'; request: RtspRequest }
  /** RFC 2326 10.12: '$', channel byte, 16-bit big-endian length, data. */
  | { type: 'interleaved'; channel: number; data: Buffer }
  | { type: 'error'; status: 400 | 413 | 431 | 505; reason: string };

export interface ParserLimits {
  /** Request line, header lines and the blank line that ends them, line endings included. */
  maxHeaderBytes: number;
  maxHeaders: number;
  maxBodyBytes: number;
}

const DEFAULT_LIMITS: ParserLimits = { maxHeaderBytes: 8192, maxHeaders: 64, maxBodyBytes: 65536 };

const CR = 0x0d;
const LF = 0x0a;
const DOLLAR = 0x24;
const FRAME_HEADER_BYTES = 4;
const SHRINK_ABOVE_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SUPPORTED_VERSIONS = new Set(['RTSP/1.0', 'RTSP/2.0']);
const VERSION_LIKE = /^[A-Za-z]+\/\d+\.\d+$/;

/**
 * Control characters other than HT. A bare CR inside a header value must not survive parsing: a server
 * echoing CSeq or Session back would otherwise let the client start a new response line.
 */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

function limit(value: number | undefined, fallback: number, min: number): number {
  return value !== undefined && Number.isFinite(value) ? Math.max(min, Math.floor(value)) : fallback;
}

/**
 * Holds the bytes of the one item being parsed: a partial header line, a body or an interleaved frame.
 * It grows by doubling, so input arriving byte by byte costs linear rather than quadratic copying.
 */
class ByteQueue {
  #buf: Buffer = EMPTY;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  append(src: Buffer): void {
    const needed = this.#length + src.length;
    if (needed > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buf.length * 2, 256));
      this.#buf.copy(grown, 0, 0, this.#length);
      this.#buf = grown;
    }
    src.copy(this.#buf, this.#length);
    this.#length = needed;
  }

  at(index: number): number {
    return index >= 0 && index < this.#length ? (this.#buf[index] ?? -1) : -1;
  }

  /** A copy, so callers may keep it after the queue is reused. */
  copy(start: number, end: number): Buffer {
    return Buffer.from(this.#buf.subarray(start, Math.min(end, this.#length)));
  }

  text(start: number, end: number): string {
    return this.#buf.toString('utf8', start, Math.min(end, this.#length));
  }

  clear(): void {
    this.#length = 0;
    // A 64 KB body should not keep 64 KB allocated for the rest of a long-lived connection.
    if (this.#buf.length > SHRINK_ABOVE_BYTES) this.#buf = EMPTY;
  }
}

type Phase = 'start' | 'head' | 'body' | 'frame' | 'dead';
type ErrorStatus = Extract<RtspInput, { type: 'error' }>['status'];

interface Failure {
  status: ErrorStatus;
  reason: string;
}

function failure(status: ErrorStatus, reason: string): Failure {
  return { status, reason };
}

interface RequestLine {
  method: string;
  uri: string;
  version: string;
}

/**
 * Incremental parser for the client-to-server byte stream of one RTSP connection.
 *
 * The queue only ever holds the item being parsed, and the parser takes from each chunk only as many bytes
 * as that item can still use, so the outcome depends on the bytes alone and never on how they were split,
 * and memory stays within the limits whatever a client sends.
 */
export class RtspParser {
  readonly #limits: ParserLimits;
  readonly #queue = new ByteQueue();
  #phase: Phase = 'start';
  #headerBytes = 0;
  #requestLine: RequestLine | undefined;
  #headers: Array<[string, string]> = [];
  #pending: RtspRequest | undefined;
  #bodyLength = 0;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.#limits = {
      maxHeaderBytes: limit(limits.maxHeaderBytes, DEFAULT_LIMITS.maxHeaderBytes, 1),
      maxHeaders: limit(limits.maxHeaders, DEFAULT_LIMITS.maxHeaders, 0),
      maxBodyBytes: limit(limits.maxBodyBytes, DEFAULT_LIMITS.maxBodyBytes, 0),
    };
  }

  /** Bytes held for the item in progress; bounded by the limits (an interleaved frame: 65539). */
  get bufferedBytes(): number {
    return this.#queue.length;
  }

  /** Returns the inputs completed by `chunk`. After an error it returns nothing more. */
  push(chunk: Buffer): RtspInput[] {
    const out: RtspInput[] = [];
    if (this.#phase === 'dead') return out;
    try {
      this.#consume(chunk, out);
    } catch {
      // Unreachable by design; the caller still gets an error to close on rather than an exception.
      this.#fail(out, 400, 'internal parser error');
    }
    return out;
  }

  #consume(chunk: Buffer, out: RtspInput[]): void {
    let offset = 0;
    while (this.#phase !== 'dead' && offset < chunk.length) {
      if (this.#phase === 'start') {
        const byte = chunk[offset];
        // Clients send bare line breaks between messages as keep-alives.
        if (byte === CR || byte === LF) {
          offset += 1;
          continue;
        }
        if (byte !== DOLLAR && !TOKEN.test(String.fromCharCode(byte ?? 0))) {
          // A method starts with a token character; anything else (a TLS ClientHello, say) need not wait
          // for a line break that may never come.
          this.#fail(out, 400, 'not an RTSP request');
          return;
        }
        this.#phase = byte === DOLLAR ? 'frame' : 'head';
      }
      let end = offset + this.#wanted();
      if (this.#phase === 'head') {
        // Stop at the end of the line, so the queue never holds bytes of what follows the header section.
        const newline = chunk.indexOf(LF, offset);
        if (newline >= 0 && newline < end) end = newline + 1;
      }
      const piece = chunk.subarray(offset, Math.min(end, chunk.length));
      if (piece.length === 0) {
        this.#fail(out, 400, 'internal parser error');
        return;
      }
      this.#queue.append(piece);
      offset += piece.length;
      this.#advance(out);
    }
  }

  #wanted(): number {
    const queued = this.#queue.length;
    switch (this.#phase) {
      case 'head':
        return this.#limits.maxHeaderBytes - this.#headerBytes - queued;
      case 'body':
        return this.#bodyLength - queued;
      case 'frame':
        return queued < FRAME_HEADER_BYTES ? FRAME_HEADER_BYTES - queued : this.#frameLength() - queued;
      default:
        return 0;
    }
  }

  #frameLength(): number {
    return FRAME_HEADER_BYTES + ((this.#queue.at(2) << 8) | this.#queue.at(3));
  }

  #advance(out: RtspInput[]): void {
    const queue = this.#queue;
    switch (this.#phase) {
      case 'frame':
        if (queue.length >= FRAME_HEADER_BYTES && queue.length >= this.#frameLength()) {
          out.push({
            type: 'interleaved',
            channel: queue.at(1),
            data: queue.copy(FRAME_HEADER_BYTES, queue.length),
          });
          this.#reset();
        }
        return;
      case 'body':
        if (queue.length >= this.#bodyLength && this.#pending) {
          this.#pending.body = queue.copy(0, this.#bodyLength);
          out.push({ type: 'request', request: this.#pending });
          this.#reset();
        }
        return;
      case 'head':
        if (queue.at(queue.length - 1) === LF) {
          const length = queue.length;
          const stripped = queue.at(length - 2) === CR ? length - 2 : length - 1;
          const line = queue.text(0, stripped);
          this.#headerBytes += length;
          queue.clear();
          const failed = this.#line(line, out);
          if (failed) this.#fail(out, failed.status, failed.reason);
        }
        if (this.#phase === 'head' && this.#headerBytes + queue.length >= this.#limits.maxHeaderBytes) {
          this.#fail(out, 431, 'header section too large');
        }
        return;
      default:
        return;
    }
  }

  #line(line: string, out: RtspInput[]): Failure | undefined {
    if (hasControl(line)) return failure(400, 'control character in header section');
    if (!this.#requestLine) return this.#startLine(line);
    if (line === '') return this.#endOfHeaders(out);
    const last = this.#headers.at(-1);
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // Obsolete line folding (RFC 2326 inherits it from HTTP/1.1): the line continues the previous value.
      if (!last) return failure(400, 'continuation line without a header');
      last[1] = last[1] === '' ? line.trim() : `${last[1]} ${line.trim()}`;
      return undefined;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trimEnd() : '';
    if (!TOKEN.test(name)) return failure(400, 'malformed header line');
    if (this.#headers.length >= this.#limits.maxHeaders) return failure(431, 'too many headers');
    this.#headers.push([name, line.slice(colon + 1).trim()]);
    return undefined;
  }

  #startLine(line: string): Failure | undefined {
    const parts = line.split(' ');
    const [method = '', uri = '', version = ''] = parts;
    if (parts.length !== 3 || !TOKEN.test(method) || uri === '' || uri.includes('\t') || version === '') {
      return failure(400, 'malformed request line');
    }
    if (!SUPPORTED_VERSIONS.has(version)) {
      return VERSION_LIKE.test(version)
        ? failure(505, `unsupported version ${version}`)
        : failure(400, 'malformed request line');
    }
    this.#requestLine = { method, uri, version };
    return undefined;
  }

  #endOfHeaders(out: RtspInput[]): Failure | undefined {
    const headers = new Map<string, string>();
    for (const [name, value] of this.#headers) {
      const key = name.toLowerCase();
      const previous = headers.get(key);
      headers.set(key, previous === undefined ? value : `${previous}, ${value}`);
    }
    let bodyLength = 0;
    const contentLength = headers.get('content-length');
    if (contentLength !== undefined) {
      // Strict digits only: a list such as "5, 7" (a repeated header) is as ambiguous as a sign or a unit.
      if (!/^\d+$/.test(contentLength)) return failure(400, 'malformed Content-Length');
      bodyLength = contentLength.length > 15 ? Number.POSITIVE_INFINITY : Number(contentLength);
      if (bodyLength > this.#limits.maxBodyBytes) return failure(413, 'body too large');
    }
    const { method, uri, version } = this.#requestLine ?? { method: '', uri: '', version: '' };
    const request: RtspRequest = { method, uri, version, headers, body: EMPTY };
    if (bodyLength === 0) {
      out.push({ type: 'request', request });
      this.#reset();
    } else {
      this.#pending = request;
      this.#bodyLength = bodyLength;
      this.#phase = 'body';
    }
    return undefined;
  }

  #reset(): void {
    this.#queue.clear();
    this.#phase = 'start';
    this.#headerBytes = 0;
    this.#requestLine = undefined;
    this.#headers = [];
    this.#pending = undefined;
    this.#bodyLength = 0;
  }

  #fail(out: RtspInput[], status: ErrorStatus, reason: string): void {
    out.push({ type: 'error', status, reason });
    this.#reset();
    this.#phase = 'dead';
  }
}

const REASONS: ReadonlyMap<number, string> = new Map([
  [100, 'Continue'],
  [200, 'OK'],
  [201, 'Created'],
  [250, 'Low on Storage Space'],
  [300, 'Multiple Choices'],
  [301, 'Moved Permanently'],
  [302, 'Moved Temporarily'],
  [303, 'See Other'],
  [304, 'Not Modified'],
  [305, 'Use Proxy'],
  [400, 'Bad Request'],
  [401, 'Unauthorized'],
  [402, 'Payment Required'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [405, 'Method Not Allowed'],
  [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'],
  [408, 'Request Timeout'],
  [410, 'Gone'],
  [411, 'Length Required'],
  [412, 'Precondition Failed'],
  [413, 'Request Entity Too Large'],
  [414, 'Request-URI Too Large'],
  [415, 'Unsupported Media Type'],
  [431, 'Request Header Fields Too Large'],
  [451, 'Parameter Not Understood'],
  [452, 'Conference Not Found'],
  [453, 'Not Enough Bandwidth'],
  [454, 'Session Not Found'],
  [455, 'Method Not Valid in This State'],
  [456, 'Header Field Not Valid for Resource'],
  [457, 'Invalid Range'],
  [458, 'Parameter Is Read-Only'],
  [459, 'Aggregate Operation Not Allowed'],
  [460, 'Only Aggregate Operation Allowed'],
  [461, 'Unsupported Transport'],
  [462, 'Destination Unreachable'],
  [463, 'Destination Prohibited'],
  [464, 'Data Transport Not Ready Yet'],
  [465, 'Notification Reason Unknown'],
  [466, 'Key Management Error'],
  [470, 'Connection Authorization Required'],
  [471, 'Connection Credentials Not Accepted'],
  [472, 'Failure to Establish Secure Connection'],
  [500, 'Internal Server Error'],
  [501, 'Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Unavailable'],
  [504, 'Gateway Timeout'],
  [505, 'RTSP Version not supported'],
  [551, 'Option not supported'],
  [553, 'Proxy Unavailable'],
]);

/** RFC 2326 7.1.1 reason phrases, with the RTSP 2.0 (RFC 7826) additions and 431 (RFC 6585). */
export function reasonPhrase(status: number): string {
  return REASONS.get(status) ?? 'Unknown';
}

/**
 * Builds a response. Content-Length is always computed from `body` (a caller's own value is dropped); an
 * array value is written as one header line per element.
 * Throws TypeError on a header name that is not a token or a value with control characters: those are
 * programming errors, and writing them would let a value start a line of its own.
 */
export function serializeResponse(
  status: number,
  headers: Record<string, string | number | readonly string[]>,
  body?: string | Buffer,
  version = 'RTSP/1.0',
): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`invalid status ${status}`);
  }
  const payload = body === undefined ? EMPTY : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let head = `${version} ${status} ${reasonPhrase(status)}\r\n`;
  for (const [name, raw] of Object.entries(headers)) {
    if (!TOKEN.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    if (name.toLowerCase() === 'content-length') continue;
    // An array repeats the header: some clients read only the first challenge of a comma-joined list.
    for (const value of typeof raw === 'object' ? raw : [String(raw)]) {
      if (hasControl(value)) throw new TypeError(`control character in header ${name}`);
      head += `${name}: ${value}\r\n`;
    }
  }
  if (payload.length > 0) head += `Content-Length: ${payload.length}\r\n`;
  head += '\r\n';
  const headBytes = Buffer.from(head, 'utf8');
  return payload.length > 0 ? Buffer.concat([headBytes, payload]) : headBytes;
}

export interface TransportSpec {
  /** Upper-cased transport/profile[/lower-transport], e.g. 'RTP/AVP/TCP'. */
  protocol: 'RTP/AVP' | 'RTP/AVP/TCP' | 'RTP/AVP/UDP' | string;
  lowerTransport: 'UDP' | 'TCP';
  unicast: boolean;
  /** A single channel n means [n, n + 1]. */
  interleaved?: [number, number];
  /** A single port n means [n, n + 1]. Ports 1-65535, the second one the first plus one. */
  clientPort?: [number, number];
  /** Where the client asks media to go (RFC 2326 12.39); honoured only when it names the client itself. */
  destination?: string;
  /** The address the client says it sends from; likewise. */
  source?: string;
  /** Upper-cased, quotes removed. */
  mode?: string;
  /** The spec as received, trimmed. */
  raw: string;
}

/** Splits on `separator` outside double-quoted strings (a quoted mode may contain commas). */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    else if (char === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/**
 * A channel or port pair `n` or `n-m`. Only a consecutive pair within [min, max] is accepted: RTP on the
 * first, RTCP on the next (RFC 3550 11). Anything else (`1-0`, `0`, `5000-7000`) is refused here, at the
 * parser, so that no timer or socket call later ever sees a value a client made up.
 */
function parsePair(value: string | undefined, min: number, max: number): [number, number] | undefined {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value ?? '');
  if (!match) return undefined;
  const first = Number(match[1]);
  const second = match[2] === undefined ? first + 1 : Number(match[2]);
  if (first < min || second > max || second !== first + 1) return undefined;
  return [first, second];
}

/** A literal IPv4 or IPv6 address (no host names: the server resolves nothing a client names). */
function parseAddress(value: string | undefined): string | undefined {
  if (value === undefined || value.length > 45) return undefined;
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(value) && value.split('.').every((part) => Number(part) <= 255)) {
    return value;
  }
  return /^[0-9A-Fa-f:.]{2,45}$/.test(value) && value.includes(':') ? value.toLowerCase() : undefined;
}

function parseTransportSpec(raw: string): TransportSpec | undefined {
  const [head = '', ...params] = splitOutsideQuotes(raw, ';');
  const protocol = head.trim().toUpperCase();
  const match = /^[A-Z0-9._-]+\/[A-Z0-9._-]+(?:\/(TCP|UDP))?$/.exec(protocol);
  if (!match) return undefined;
  // RFC 2326 makes multicast the default, but clients that omit both mean unicast (and interleaved
  // delivery cannot be anything else); treating them as multicast would only turn them away.
  const spec: TransportSpec = {
    protocol,
    lowerTransport: match[1] === 'TCP' ? 'TCP' : 'UDP',
    unicast: true,
    raw,
  };
  for (const param of params) {
    const eq = param.indexOf('=');
    const name = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : unquote(param.slice(eq + 1).trim());
    switch (name) {
      case 'unicast':
        spec.unicast = true;
        break;
      case 'multicast':
        spec.unicast = false;
        break;
      case 'interleaved': {
        const pair = parsePair(value, 0, 255);
        if (!pair) return undefined;
        spec.interleaved = pair;
        break;
      }
      case 'client_port': {
        const pair = parsePair(value, 1, 65535);
        if (!pair) return undefined;
        spec.clientPort = pair;
        break;
      }
      case 'destination':
      case 'source': {
        // A bare `destination` means "the client itself" (RFC 2326 12.39); a named one must parse.
        if (value === undefined) break;
        const address = parseAddress(value);
        if (!address) return undefined;
        spec[name] = address;
        break;
      }
      case 'mode':
        if (value) spec.mode = value.toUpperCase();
        break;
      default:
        break;
    }
  }
  return spec;
}

/**
 * Parses a Transport header (RFC 2326 12.39): the client's acceptable transports in order of preference.
 * Unknown parameters are ignored; a spec with an unknown shape, an out-of-range or non-consecutive
 * channel or port pair, or a destination/source that is not a literal address is skipped.
 */
export function parseTransport(header: string): TransportSpec[] {
  if (typeof header !== 'string') return [];
  const specs: TransportSpec[] = [];
  for (const part of splitOutsideQuotes(header, ',')) {
    const raw = part.trim();
    const spec = raw === '' ? undefined : parseTransportSpec(raw);
    if (spec) specs.push(spec);
  }
  return specs;
}

const MAX_URL_CHARS = 1024;

/**
 * The path (percent-decoded, empty and '.' segments removed, no trailing slash) and raw query of a
 * request URI. Absolute rtsp:// (also rtsps, rtspu) URLs, relative paths and '*' are accepted; other
 * schemes, '..' segments (also when percent-encoded), control characters and overlong URIs are not.
 */
export function parseRtspUrl(uri: string): { path: string; query: string } | undefined {
  if (typeof uri !== 'string' || uri === '' || uri.length > MAX_URL_CHARS) return undefined;
  if (uri === '*') return { path: '*', query: '' };
  let rest = uri;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  if (scheme) {
    if (!/^rtsp[su]?$/i.test(scheme[1] ?? '') || !uri.startsWith('//', scheme[0].length)) return undefined;
    const authorityAndPath = uri.slice(scheme[0].length + 2);
    const pathStart = authorityAndPath.search(/[/?#]/);
    rest = pathStart < 0 ? '' : authorityAndPath.slice(pathStart);
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const questionMark = rest.indexOf('?');
  const rawPath = questionMark < 0 ? rest : rest.slice(0, questionMark);
  const query = questionMark < 0 ? '' : rest.slice(questionMark + 1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (hasControl(decoded) || hasControl(query)) return undefined;
  const segments = decoded.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) return undefined;
  const path = `/${segments.join('/')}`;
  return path.length > MAX_URL_CHARS ? undefined : { path, query };
}
