import { connect, type Socket } from 'node:net';
import { DigestClient, type RtspCredentials } from './rtsp-digest.js';
import { readRtspItem } from './rtsp-wire.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Interleaved frames that arrived before this response. */
  framesBefore: number;
}

/**
 * A deliberately small RTSP client written for the tests (not the server's parser), to send exactly
 * the bytes a test needs, read interleaved RTP, or stop reading to play a stalled client. Opened with
 * credentials, `request` answers a 401 once with Digest and signs the requests after it.
 */
export class RawRtspClient {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  #buffer = Buffer.alloc(0);
  #cseq = 0;
  #waiters: (() => void)[] = [];
  readonly frames: { channel: number; data: Buffer }[] = [];
  readonly responses: RawResponse[] = [];
  readonly digest: DigestClient | undefined;

  private constructor(socket: Socket, credentials: RtspCredentials | undefined) {
    this.socket = socket;
    this.digest = credentials ? new DigestClient(credentials) : undefined;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#parse();
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, credentials?: RtspCredentials, localAddress?: string): Promise<RawRtspClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) }, () =>
        resolve(new RawRtspClient(socket, credentials)),
      );
      socket.once('error', reject);
    });
  }

  send(raw: string | Buffer): void {
    this.socket.write(raw);
  }

  async request(method: string, url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
    const signed = this.digest?.authorization(method, url);
    const first = await this.#requestOnce(
      method,
      url,
      signed ? { Authorization: signed, ...headers } : headers,
    );
    if (first.status !== 401 || !this.digest || headers.Authorization !== undefined) return first;
    if (!this.digest.challenge(first.headers['www-authenticate'])) return first;
    const authorization = this.digest.authorization(method, url) ?? '';
    return this.#requestOnce(method, url, { Authorization: authorization, ...headers });
  }

  async #requestOnce(method: string, url: string, headers: Record<string, string>): Promise<RawResponse> {
    this.#cseq += 1;
    const lines = [
      `${method} ${url} RTSP/1.0`,
      `CSeq: ${this.#cseq}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    const count = this.responses.length;
    this.send(`${lines.join('\r\n')}\r\n\r\n`);
    await this.until(() => this.responses.length > count, `${method} response`);
    return this.responses[count] as RawResponse;
  }

  /** Resolves when `test` holds after some data arrived; rejects if the connection closes first. */
  until(test: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (test()) {
          clearTimeout(timer);
          resolve();
        } else if (this.socket.destroyed) {
          clearTimeout(timer);
          reject(new Error(`connection closed while waiting for ${what}`));
        } else {
          this.#waiters.push(check);
        }
      };
      check();
    });
  }

  /** OPTIONS..PLAY over TCP interleaved for one path; returns the session id. */
  async play(base: string, tracks: number[] = [0]): Promise<string> {
    let session = '';
    for (const track of tracks) {
      const response = await this.request('SETUP', `${base}/trackID=${track}`, {
        Transport: `RTP/AVP/TCP;unicast;interleaved=${track * 2}-${track * 2 + 1}`,
        ...(session ? { Session: session } : {}),
      });
      if (response.status !== 200) throw new Error(`SETUP ${response.status}`);
      session = (response.headers.session ?? '').split(';')[0] ?? '';
    }
    const played = await this.request('PLAY', base, { Session: session });
    if (played.status !== 200) throw new Error(`PLAY ${played.status}`);
    return session;
  }

  close(): void {
    this.socket.destroy();
  }

  #parse(): void {
    for (let item = readRtspItem(this.#buffer); item; item = readRtspItem(this.#buffer)) {
      this.#buffer = this.#buffer.subarray(item.size);
      if (item.kind === 'frame') {
        this.frames.push({ channel: item.channel, data: Buffer.from(item.data) });
      } else {
        const { status, headers, body } = item;
        this.responses.push({ status, headers, body, framesBefore: this.frames.length });
      }
    }
  }
}

/** H.264 NAL types in an RTP payload (single NAL, STAP-A aggregates, FU-A start fragments). */
export function nalTypesInRtp(packet: Buffer): number[] {
  const payload = packet.subarray(12);
  const type = (payload[0] ?? 0) & 0x1f;
  if (type === 24) {
    const types: number[] = [];
    for (let at = 1; at + 2 < payload.length; ) {
      const size = payload.readUInt16BE(at);
      types.push((payload[at + 2] ?? 0) & 0x1f);
      at += 2 + size;
    }
    return types;
  }
  if (type === 28) return ((payload[1] ?? 0) & 0x80) !== 0 ? [(payload[1] ?? 0) & 0x1f] : [];
  return [type];
}
