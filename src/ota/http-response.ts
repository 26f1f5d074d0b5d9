/** Status and header fields of an HTTP/1.1 response; field names in lower case, repeats joined by `, `. */
export interface ResponseHead {
  status: number;
  headers: Readonly<Record<string, string>>;
}

/** The response breaks HTTP/1.1 framing (RFC 9112); nothing after it can be trusted. */
export class HttpParseError extends Error {
  readonly code = 'ERR_HTTP_PARSE';
  constructor(message: string) {
    super(message);
    this.name = 'HttpParseError';
  }
}

const MAX_HEAD = 64 * 1024;
const MAX_LINE = 1024;
const CRLF2 = Buffer.from('\r\n\r\n');
const LF = 0x0a;

type Framing =
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailer'; remaining: number; line: string }
  | { kind: 'close' };

/**
 * Reads one HTTP/1.1 response as its bytes arrive, in pieces of any size (RFC 9112: status line and
 * fields, then a body framed by `Transfer-Encoding: chunked`, `Content-Length`, or the end of the
 * connection). Body bytes are passed on as views of the bytes pushed, never copied, so a caller that
 * reads into one reused buffer keeps memory constant. Interim (1xx) responses are skipped. No I/O.
 */
export class ResponseReader {
  #head: ResponseHead | undefined;
  #headBytes: Buffer = Buffer.alloc(0);
  #framing: Framing | undefined;
  #complete = false;

  get head(): ResponseHead | undefined {
    return this.#head;
  }

  /** The whole body has arrived (for a body that ends with the connection: after `end()`). */
  get complete(): boolean {
    return this.#complete;
  }

  /** Takes the next bytes of the connection; body bytes go to `onBody`, valid only during that call. */
  push(bytes: Uint8Array, onBody: (body: Uint8Array) => void): void {
    let offset = 0;
    if (!this.#head) {
      offset = this.#readHead(bytes);
      if (offset < 0) return;
    }
    if (!this.#complete) this.#readBody(bytes.subarray(offset), onBody);
  }

  /** The connection ended. */
  end(): void {
    if (this.#framing?.kind === 'close') this.#complete = true;
  }

  /** Returns where the body starts in `bytes`, or -1 while the head is still incomplete. */
  #readHead(bytes: Uint8Array): number {
    const before = this.#headBytes.length;
    const joined = Buffer.concat([this.#headBytes, bytes]);
    const end = joined.indexOf(CRLF2, Math.max(0, before - 3));
    if (end < 0) {
      if (joined.length > MAX_HEAD) throw new HttpParseError(`response head longer than ${MAX_HEAD} bytes`);
      this.#headBytes = joined;
      return -1;
    }
    const head = parseHead(joined.subarray(0, end).toString('latin1'));
    this.#headBytes = Buffer.alloc(0);
    const bodyStart = end + CRLF2.length - before;
    if (head.status < 200) {
      // An interim response (100 Continue, 103 Early Hints): the real one follows.
      const rest = bytes.subarray(bodyStart);
      const next = rest.length > 0 ? this.#readHead(rest) : -1;
      return next < 0 ? -1 : bodyStart + next;
    }
    this.#head = head;
    this.#framing = framingOf(head);
    if (this.#framing.kind === 'length' && this.#framing.remaining === 0) this.#complete = true;
    return bodyStart;
  }

  #readBody(bytes: Uint8Array, onBody: (body: Uint8Array) => void): void {
    const framing = this.#framing;
    if (!framing) return;
    if (framing.kind === 'close') {
      if (bytes.length > 0) onBody(bytes);
    } else if (framing.kind === 'length') {
      const take = Math.min(framing.remaining, bytes.length);
      if (take > 0) onBody(bytes.subarray(0, take));
      framing.remaining -= take;
      if (framing.remaining === 0) this.#complete = true;
    } else {
      this.#readChunked(framing, bytes, onBody);
    }
  }

  #readChunked(
    c: Extract<Framing, { kind: 'chunked' }>,
    bytes: Uint8Array,
    onBody: (body: Uint8Array) => void,
  ): void {
    let i = 0;
    while (i < bytes.length && !this.#complete) {
      if (c.state === 'data') {
        const take = Math.min(c.remaining, bytes.length - i);
        onBody(bytes.subarray(i, i + take));
        i += take;
        c.remaining -= take;
        if (c.remaining === 0) c.state = 'data-end';
        continue;
      }
      // The other states read one line: a chunk size, the CRLF after a chunk's data, a trailer field.
      const byte = bytes[i++] as number;
      if (byte !== LF) {
        if (c.line.length >= MAX_LINE) throw new HttpParseError('chunked framing line too long');
        c.line += String.fromCharCode(byte);
        continue;
      }
      const line = c.line.endsWith('\r') ? c.line.slice(0, -1) : c.line;
      c.line = '';
      if (c.state === 'size') {
        const size = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line)?.[1];
        if (size === undefined) throw new HttpParseError(`bad chunk size ${JSON.stringify(line)}`);
        c.remaining = Number.parseInt(size, 16);
        c.state = c.remaining === 0 ? 'trailer' : 'data';
      } else if (c.state === 'data-end') {
        if (line !== '') throw new HttpParseError('chunk data longer than its size');
        c.state = 'size';
      } else if (line === '') {
        this.#complete = true;
      }
    }
  }
}

function parseHead(text: string): ResponseHead {
  const lines = text.split(/\r?\n/);
  const status = /^HTTP\/1\.[01] ([1-9]\d\d)(?: .*)?$/.exec(lines[0] ?? '')?.[1];
  if (status === undefined) throw new HttpParseError(`bad status line ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!match) throw new HttpParseError(`bad header line ${JSON.stringify(line)}`);
    const name = (match[1] as string).toLowerCase();
    const value = match[2] as string;
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { status: Number(status), headers };
}

/** RFC 9112 section 6.3, for responses to a GET. */
function framingOf(head: ResponseHead): Framing {
  if (head.status === 204 || head.status === 304) return { kind: 'length', remaining: 0 };
  const te = head.headers['transfer-encoding'];
  if (te !== undefined) {
    if (te.trim().toLowerCase() !== 'chunked') {
      throw new HttpParseError(`unsupported transfer-encoding ${JSON.stringify(te)}`);
    }
    return { kind: 'chunked', state: 'size', remaining: 0, line: '' };
  }
  const cl = head.headers['content-length'];
  if (cl !== undefined) {
    const values = new Set(cl.split(',').map((v) => v.trim()));
    const [value] = values;
    if (values.size !== 1 || value === undefined || !/^\d{1,15}$/.test(value)) {
      throw new HttpParseError(`bad content-length ${JSON.stringify(cl)}`);
    }
    return { kind: 'length', remaining: Number(value) };
  }
  return { kind: 'close' };
}
