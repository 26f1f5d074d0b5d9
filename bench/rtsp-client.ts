// A minimal RTSP/TCP client for bench/rtsp.ts: DESCRIBE, SETUP (interleaved), PLAY, then it watches
// the RTP for the first complete IDR access unit, the first picture a decoder can show. Written for
// the benchmark (not the daemon's parser) so that it works the same against any server.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { DigestClient } from '../test/helpers/rtsp-digest.js';
import { readRtspItem } from '../test/helpers/rtsp-wire.js';

export interface FirstFrame {
  /** From starting the TCP connect to the last packet of the first IDR access unit. */
  totalMs: number;
  /** From the PLAY reply to the same moment: what the server itself adds. */
  afterPlayMs: number;
  /** Complete video frames received within 100 ms of that first IDR (the instant-start burst). */
  burstFrames: number;
  /** How far the newest frame of those 100 ms is ahead of the first IDR: the viewer's start delay. */
  behindMs: number;
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const IDR = 5;

/** H.264 NAL types in one RTP payload: single NAL, STAP-A, FU-A start fragment. */
function nalTypes(payload: Buffer): number[] {
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

/** The video track's control URL from an SDP, resolved against the content base. */
function videoControl(sdp: string, base: string): string {
  let inVideo = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) inVideo = line.startsWith('m=video');
    else if (inVideo && line.startsWith('a=control:')) {
      const control = line.slice('a=control:'.length).trim();
      if (/^rtsp:\/\//i.test(control)) return control;
      return `${base.endsWith('/') ? base : `${base}/`}${control}`;
    }
  }
  return base;
}

class Connection {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #cseq = 0;
  #pending: { resolve: (response: Response) => void; reject: (err: Error) => void } | undefined;
  #onRtp: ((packet: Buffer) => void) | undefined;
  #failed: ((err: Error) => void) | undefined;
  readonly #digest: DigestClient | undefined;

  constructor(socket: Socket, digest: DigestClient | undefined) {
    this.#socket = socket;
    this.#digest = digest;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    const fail = (err: Error) => {
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.reject(err);
      this.#failed?.(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  onRtp(handler: (packet: Buffer) => void): void {
    this.#onRtp = handler;
  }

  onFailure(handler: (err: Error) => void): void {
    this.#failed = handler;
  }

  /** Answers a 401 once with Digest when the URL carried credentials; later requests are signed. */
  async request(method: string, url: string, headers: Record<string, string> = {}): Promise<Response> {
    const signed = this.#digest?.authorization(method, url);
    const first = await this.#send(method, url, signed ? { ...headers, Authorization: signed } : headers);
    if (first.status !== 401 || !this.#digest?.challenge(first.headers['www-authenticate'])) return first;
    return this.#send(method, url, {
      ...headers,
      Authorization: this.#digest.authorization(method, url) ?? '',
    });
  }

  #send(method: string, url: string, headers: Record<string, string>): Promise<Response> {
    this.#cseq += 1;
    const lines = [
      `${method} ${url} RTSP/1.0`,
      `CSeq: ${this.#cseq}`,
      'User-Agent: ipcam-agent-bench',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
  }

  close(): void {
    this.#failed = undefined;
    this.#pending = undefined;
    this.#socket.destroy();
  }

  #parse(): void {
    for (let item = readRtspItem(this.#buffer); item; item = readRtspItem(this.#buffer)) {
      this.#buffer = this.#buffer.subarray(item.size);
      if (item.kind === 'frame') {
        if (item.channel === 0) this.#onRtp?.(item.data);
        continue;
      }
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.resolve({ status: item.status, headers: item.headers, body: item.body });
    }
  }
}

function open(host: string, port: number, digest: DigestClient | undefined): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => {
      socket.setNoDelay(true);
      resolve(new Connection(socket, digest));
    });
    socket.once('error', reject);
  });
}

/** Connects, plays `withUser` (rtsp://user:pass@... or without credentials) over TCP and resolves when the first IDR access unit is complete. */
export async function timeToFirstFrame(withUser: string, timeoutMs = 10000): Promise<FirstFrame> {
  const parsed = new URL(withUser);
  const { hostname, port } = parsed;
  // Credentials in the URL go into Digest, never onto the wire: the request URLs carry none.
  const digest = parsed.username
    ? new DigestClient({
        username: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
      })
    : undefined;
  const url = withUser.replace(/^rtsp:\/\/[^@/]*@/, 'rtsp://');
  const began = performance.now();
  const conn = await open(hostname, Number(port || 554), digest);
  try {
    const described = await conn.request('DESCRIBE', url, { Accept: 'application/sdp' });
    if (described.status !== 200) throw new Error(`DESCRIBE ${described.status}`);
    const base = described.headers['content-base'] ?? url;
    const setup = await conn.request('SETUP', videoControl(described.body, base), {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    if (setup.status !== 200) throw new Error(`SETUP ${setup.status}`);
    const session = (setup.headers.session ?? '').split(';')[0] ?? '';
    return await new Promise<FirstFrame>((resolve, reject) => {
      let playedAt = 0;
      let inIdr = false;
      let firstAt = 0;
      let burst = 0;
      let idrTs = 0;
      let ahead = 0;
      const timer = setTimeout(() => reject(new Error(`no IDR frame within ${timeoutMs} ms`)), timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        resolve({
          totalMs: firstAt - began,
          afterPlayMs: firstAt - (playedAt || firstAt),
          burstFrames: burst,
          behindMs: ahead / 90,
        });
      };
      conn.onRtp((packet) => {
        if (packet.length < 13) return;
        const csrcs = (packet[0] ?? 0) & 0x0f;
        const marker = ((packet[1] ?? 0) & 0x80) !== 0;
        const now = performance.now();
        const timestamp = packet.readUInt32BE(4);
        if (firstAt !== 0) {
          if (now - firstAt > 100) return;
          if (marker) burst += 1;
          // RTP timestamps wrap at 2^32: the signed 32-bit difference is the distance.
          ahead = Math.max(ahead, (timestamp - idrTs) | 0);
          return;
        }
        if (nalTypes(packet.subarray(12 + csrcs * 4)).includes(IDR)) inIdr = true;
        if (marker && inIdr) {
          firstAt = now;
          idrTs = timestamp;
          setTimeout(finish, 100);
        }
      });
      conn.onFailure((err) => {
        clearTimeout(timer);
        reject(err);
      });
      conn.request('PLAY', base, { Session: session, Range: 'npt=0.000-' }).then(
        (played) => {
          playedAt = performance.now();
          if (played.status !== 200) {
            clearTimeout(timer);
            reject(new Error(`PLAY ${played.status}`));
          }
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  } finally {
    conn.close();
  }
}

/** Two UDP sockets on a consecutive even/odd port pair, as RTP/RTCP clients announce them. */
async function udpPair(): Promise<[UdpSocket, UdpSocket]> {
  const bind = (socket: UdpSocket, port: number) =>
    new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => resolve());
    });
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 20000 + 2 * Math.floor(Math.random() * 20000);
    const rtp = createSocket('udp4');
    const rtcp = createSocket('udp4');
    try {
      await bind(rtp, port);
      await bind(rtcp, port + 1);
      return [rtp, rtcp];
    } catch {
      rtp.close();
      rtcp.close();
    }
  }
  throw new Error('no free UDP port pair');
}

/**
 * A viewer without a decoder: plays `withUser` over TCP (interleaved) or UDP, reads everything as it
 * comes, and calls `onFrame` for each RTP packet with the marker bit (the end of a frame). Cheaper than
 * an ffmpeg process per viewer, so a busy machine can run sixteen of them. Resolves with its stop.
 */
export async function playStream(
  withUser: string,
  transport: 'tcp' | 'udp',
  onFrame: () => void,
): Promise<() => void> {
  const parsed = new URL(withUser);
  const digest = parsed.username
    ? new DigestClient({
        username: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
      })
    : undefined;
  const url = withUser.replace(/^rtsp:\/\/[^@/]*@/, 'rtsp://');
  const conn = await open(parsed.hostname, Number(parsed.port || 554), digest);
  const sockets = transport === 'udp' ? await udpPair() : [];
  const stop = () => {
    conn.close();
    for (const socket of sockets) socket.close();
  };
  try {
    const marker = (packet: Buffer) => {
      if (packet.length >= 12 && ((packet[1] ?? 0) & 0x80) !== 0) onFrame();
    };
    conn.onRtp(marker);
    sockets[0]?.on('message', marker);
    const described = await conn.request('DESCRIBE', url, { Accept: 'application/sdp' });
    if (described.status !== 200) throw new Error(`DESCRIBE ${described.status}`);
    const base = described.headers['content-base'] ?? url;
    const port = sockets[0]?.address().port ?? 0;
    const setup = await conn.request('SETUP', videoControl(described.body, base), {
      Transport:
        transport === 'tcp'
          ? 'RTP/AVP/TCP;unicast;interleaved=0-1'
          : `RTP/AVP;unicast;client_port=${port}-${port + 1}`,
    });
    if (setup.status !== 200) throw new Error(`SETUP ${setup.status}`);
    const session = (setup.headers.session ?? '').split(';')[0] ?? '';
    const played = await conn.request('PLAY', base, { Session: session, Range: 'npt=0.000-' });
    if (played.status !== 200) throw new Error(`PLAY ${played.status}`);
    return stop;
  } catch (err) {
    stop();
    throw err;
  }
}
