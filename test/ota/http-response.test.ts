import { describe, expect, it } from 'vitest';
import { HttpParseError, type ResponseHead, ResponseReader } from '../../src/ota/http-response.js';

interface Read {
  head: ResponseHead | undefined;
  body: Buffer;
  complete: boolean;
}

/** Feeds `wire` in pieces of `piece` bytes (0: all at once), then ends the connection if asked. */
function read(wire: string | Buffer, piece = 0, end = false): Read {
  const bytes = typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire;
  const reader = new ResponseReader();
  const body: Buffer[] = [];
  const step = piece || bytes.length;
  for (let i = 0; i < bytes.length; i += step) {
    reader.push(bytes.subarray(i, i + step), (b) => body.push(Buffer.from(b)));
  }
  if (end) reader.end();
  return { head: reader.head, body: Buffer.concat(body), complete: reader.complete };
}

/** The same response read whole and split at every possible place must give the same result. */
function everySplit(wire: string, end = false): Read {
  const whole = read(wire, 0, end);
  for (let piece = 1; piece < wire.length; piece += 1) expect(read(wire, piece, end)).toEqual(whole);
  return whole;
}

describe('HTTP/1.1 response reader', () => {
  it('reads a Content-Length body, however the bytes are split, and ignores bytes after it', () => {
    const r = everySplit(
      'HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nContent-Range: bytes 10-14/15\r\n' +
        'X-A: 1\r\nx-a: 2\r\n\r\nhelloEXTRA',
    );
    expect(r.head).toEqual({
      status: 206,
      headers: { 'content-length': '5', 'content-range': 'bytes 10-14/15', 'x-a': '1, 2' },
    });
    expect(r.body.toString()).toBe('hello');
    expect(r.complete).toBe(true);
  });

  it('reads a chunked body with extensions and trailer fields, however the bytes are split', () => {
    const r = everySplit(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nDigest: x\r\n\r\n',
    );
    expect(r.body.toString()).toBe('helloabcdefghijklmnopqrstuvwxyz');
    expect(r.complete).toBe(true);
  });

  it('does not call a chunked body complete before its last chunk and the empty line', () => {
    expect(read('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n').complete).toBe(
      false,
    );
    expect(read('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', 0, true).complete).toBe(
      false,
    );
  });

  it('reads a body without framing until the connection ends', () => {
    const wire = 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it';
    expect(read(wire)).toMatchObject({ complete: false });
    expect(everySplit(wire, true)).toMatchObject({ complete: true });
    expect(read(wire, 0, true).body.toString()).toBe('all of it');
  });

  it('calls a Content-Length body cut short incomplete', () => {
    expect(read('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort', 0, true)).toMatchObject({
      complete: false,
    });
  });

  it('skips interim responses, and takes a 204 as complete without a body', () => {
    const r = everySplit(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    );
    expect(r.head?.status).toBe(200);
    expect(r.body.toString()).toBe('ok');
    expect(read('HTTP/1.1 204 No Content\r\n\r\n').complete).toBe(true);
  });

  it('passes body bytes on as views of the bytes pushed, not copies', () => {
    const wire = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody');
    const seen: Uint8Array[] = [];
    new ResponseReader().push(wire, (b) => seen.push(b));
    expect(seen).toHaveLength(1);
    expect(seen[0]?.buffer).toBe(wire.buffer);
  });

  it.each([
    ['a bad status line', 'HTTP/2 200 OK\r\n\r\n'],
    ['a bad header line', 'HTTP/1.1 200 OK\r\nno colon\r\n\r\n'],
    ['folded header lines', 'HTTP/1.1 200 OK\r\nA: 1\r\n  2\r\n\r\n'],
    ['conflicting Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n'],
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['a coding it cannot undo', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['a chunk longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n'],
    ['a head without end', `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70 * 1024)}`],
  ])('refuses %s', (_what, wire) => {
    expect(() => read(wire, 1000)).toThrow(HttpParseError);
  });
});
