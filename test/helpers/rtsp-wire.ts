/** One thing an RTSP server sent over TCP: an interleaved frame, or a response. */
export type RtspItem =
  | { kind: 'frame'; channel: number; data: Buffer; size: number }
  | { kind: 'response'; status: number; headers: Record<string, string>; body: string; size: number };

/** Reads the item at the start of `buffer` (`size` bytes of it), or undefined until it is complete. */
export function readRtspItem(buffer: Buffer): RtspItem | undefined {
  if (buffer.length === 0) return undefined;
  if (buffer[0] === 0x24) {
    if (buffer.length < 4) return undefined;
    const length = buffer.readUInt16BE(2);
    if (buffer.length < 4 + length) return undefined;
    return { kind: 'frame', channel: buffer[1] ?? 0, data: buffer.subarray(4, 4 + length), size: 4 + length };
  }
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
    // The first of a repeated header: a 401 lists its Digest challenge before a Basic one.
    if (name !== '' && !(name in headers)) headers[name] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buffer.length < end + 4 + length) return undefined;
  const body = buffer.subarray(end + 4, end + 4 + length).toString();
  return { kind: 'response', status: Number(head[0]?.split(' ')[1]), headers, body, size: end + 4 + length };
}
