// A minimal RTSP/TCP client for bench/rtsp.ts: DESCRIBE, SETUP (interleaved), PLAY, then it watches
// the RTP for the first complete IDR access unit, the first picture a decoder can show. Written for
// the benchmark (not the daemon's parser) so that it works the same against any server.
import { connect, type Socket } from 'node:net';
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

  constructor(socket: Socket) {
    this.#socket = socket;
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

  request(method: string, url: string, headers: Record<string, string> = {}): Promise<Response> {
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

function open(host: string, port: number): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => {
      socket.setNoDelay(true);
      resolve(new Connection(socket));
    });
    socket.once('error', reject);
  });
}

/** Connects, plays `url` over TCP and resolves when the first IDR access unit is complete. */
export async function timeToFirstFrame(url: string, timeoutMs = 10000): Promise<FirstFrame> {
  const { hostname, port } = new URL(url);
  const began = performance.now();
  const conn = await open(hostname, Number(port || 554));
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
