import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../core/logger.js';
import type { StreamHub } from '../media/hub.js';
import type { StreamName } from '../media/types.js';
import { type Credentials, DigestAuthenticator } from './digest.js';
import {
  parseRtspUrl,
  parseTransport,
  RtspParser,
  type RtspRequest,
  serializeResponse,
  type TransportSpec,
} from './message.js';
import { buildSdp } from './sdp.js';
import { type PacketSink, RtspSession, type SlowClientPolicy } from './session.js';
import { bindUdpPair, type UdpPair } from './udp.js';

export interface RtspServerOptions {
  host: string;
  port: number;
  /** 0: any free even pair. */
  udpPort: number;
  udp: boolean;
  hubs: Record<StreamName, StreamHub>;
  /** Read at each request, so a new password from desired state applies at once. */
  credentials: () => Credentials | undefined;
  allowBasic: boolean;
  sessionTimeoutMs: number;
  maxSessions: number;
  /** How long DESCRIBE waits for the first keyframe of a stream that just started. */
  describeWaitMs: number;
  slowClient: SlowClientPolicy;
  log: Logger;
}

type Headers = Record<string, string | number>;

interface Reply {
  status: number;
  headers?: Headers;
  body?: string;
  /** Runs after the reply is written (PLAY starts media only once the client has the 200). */
  after?: () => void;
}

const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER';
const SERVER = 'ipcam-agent';

/**
 * RTSP 1.0 server (RFC 2326) for `/main` and `/sub`: RTP over TCP (interleaved) and UDP, Digest
 * authentication, instant start from the cached GOP. Each connection parses its own bytes; a bad
 * request gets an error reply or a closed connection and touches no other client.
 */
export class RtspServer {
  readonly #options: RtspServerOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<string, RtspSession>();
  readonly #connections = new Set<Socket>();
  #server: Server | undefined;
  #udp: UdpPair | undefined;
  #auth: DigestAuthenticator;
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;
  #port = 0;

  constructor(options: RtspServerOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#auth = new DigestAuthenticator({ realm: 'ipcam-agent', allowBasic: options.allowBasic });
  }

  get port(): number {
    return this.#port;
  }

  get udpPort(): number | undefined {
    return this.#udp?.rtpPort;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  async start(): Promise<void> {
    const { host, port, udp, udpPort } = this.#options;
    if (udp) {
      this.#udp = await bindUdpPair(host, udpPort);
      this.#udp.rtcp.on('message', (_msg, from) => this.#touchUdp(from.address, from.port));
      this.#udp.rtp.on('error', (err) => this.#log.warn({ err }, 'udp rtp socket error'));
      this.#udp.rtcp.on('error', (err) => this.#log.warn({ err }, 'udp rtcp socket error'));
    }
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    this.#port = typeof address === 'object' && address ? address.port : port;
    this.#timer = setInterval(() => this.#tick(), 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const session of this.#sessions.values()) session.close();
    this.#sessions.clear();
    for (const socket of this.#connections) socket.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    await this.#udp?.close();
  }

  /** Ends every session (privacy mode). */
  closeAll(): void {
    for (const socket of this.#connections) socket.destroy();
    for (const session of this.#sessions.values()) session.close();
    this.#sessions.clear();
  }

  #accept(socket: Socket): void {
    this.#connections.add(socket);
    socket.setNoDelay(true);
    const parser = new RtspParser();
    const owned = new Set<RtspSession>();
    let queue = Promise.resolve();
    const cleanup = () => {
      this.#connections.delete(socket);
      // Sessions carried on this connection die with it; UDP sessions live on until TEARDOWN or timeout.
      for (const session of owned) {
        if (session.transport === 'tcp') this.#endSession(session);
      }
    };
    socket.on('close', cleanup);
    socket.on('error', (err) => this.#log.debug({ err }, 'rtsp connection error'));
    socket.on('data', (chunk: Buffer) => {
      for (const input of parser.push(chunk)) {
        if (input.type === 'interleaved') {
          for (const session of owned) session.lastActivity = Date.now();
        } else if (input.type === 'error') {
          this.#log.warn(
            { status: input.status, reason: input.reason, remote: socket.remoteAddress },
            'bad rtsp request',
          );
          socket.end(serializeResponse(input.status, { Server: SERVER }));
          return;
        } else {
          const request = input.request;
          queue = queue
            .then(() => this.#handle(request, socket, owned))
            .then((reply) => this.#write(socket, request, reply))
            .catch((err: unknown) => {
              this.#log.error({ err, method: request.method }, 'rtsp request failed');
              this.#write(socket, request, { status: 500 });
            });
        }
      }
    });
  }

  #write(socket: Socket, request: RtspRequest, reply: Reply): void {
    if (socket.destroyed) return;
    const cseq = request.headers.get('cseq');
    const headers: Headers = {
      ...(cseq !== undefined ? { CSeq: cseq } : {}),
      Server: SERVER,
      ...reply.headers,
    };
    socket.write(serializeResponse(reply.status, headers, reply.body));
    reply.after?.();
  }

  async #handle(request: RtspRequest, socket: Socket, owned: Set<RtspSession>): Promise<Reply> {
    const cseq = request.headers.get('cseq');
    if (cseq === undefined || !/^\d{1,10}$/.test(cseq.trim())) return { status: 400 };
    const url = request.uri === '*' ? { path: '*', query: '' } : parseRtspUrl(request.uri);
    if (!url) return { status: 400 };
    if (request.method === 'OPTIONS') return { status: 200, headers: { Public: PUBLIC } };

    const denied = this.#authorize(request);
    if (denied) return denied;

    const sessionId = request.headers.get('session')?.split(';')[0]?.trim();
    const session = sessionId ? this.#sessions.get(sessionId) : undefined;
    if (sessionId && !session) return { status: 454 };
    if (session) session.lastActivity = Date.now();

    switch (request.method) {
      case 'DESCRIBE':
        return this.#describe(request, url.path, socket);
      case 'SETUP':
        return this.#setup(request, url.path, socket, session, owned);
      case 'PLAY':
        return session ? this.#play(request, session) : { status: 454 };
      case 'PAUSE':
        if (!session) return { status: 454 };
        session.pause();
        return { status: 200, headers: { Session: session.id } };
      case 'TEARDOWN':
        if (session) this.#endSession(session);
        return { status: 200 };
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return { status: 200, headers: session ? { Session: session.id } : {} };
      case 'ANNOUNCE':
      case 'RECORD':
        return { status: 405, headers: { Allow: PUBLIC } };
      default:
        return { status: 501, headers: { Public: PUBLIC } };
    }
  }

  #authorize(request: RtspRequest): Reply | undefined {
    const credentials = this.#options.credentials();
    if (!credentials) return undefined;
    const result = this.#auth.verify(request.method, request.headers.get('authorization'), credentials);
    if (result === 'ok') return undefined;
    if (result === 'invalid') this.#log.warn({ method: request.method }, 'rtsp authentication failed');
    return {
      status: 401,
      headers: { 'WWW-Authenticate': this.#auth.challenge(result === 'stale').join(', ') },
    };
  }

  #hubFor(path: string): { hub: StreamHub; name: StreamName; track: number | undefined } | undefined {
    const segments = path.split('/').filter(Boolean);
    const name = segments[0];
    if (name !== 'main' && name !== 'sub') return undefined;
    const rest = segments.slice(1);
    if (rest.length > 1) return undefined;
    const trackMatch = rest[0] === undefined ? undefined : /^trackID=(\d)$/.exec(rest[0]);
    if (rest[0] !== undefined && !trackMatch) return undefined;
    return { hub: this.#options.hubs[name], name, track: trackMatch ? Number(trackMatch[1]) : undefined };
  }

  async #describe(request: RtspRequest, path: string, socket: Socket): Promise<Reply> {
    const target = this.#hubFor(path);
    if (!target || target.track !== undefined) return { status: 404 };
    const video = target.hub.video ?? (await this.#waitForTrack(target.hub));
    if (!video) return { status: 503, headers: { 'Retry-After': 2 } };
    const base = `${request.uri.replace(/\/$/, '')}/`;
    const body = buildSdp({
      sessionId: String(Date.now()),
      host: socket.localAddress?.replace(/^::ffff:/, '') ?? '0.0.0.0',
      name: `ipcam-agent ${target.name}`,
      video,
      audio: target.hub.audio,
    });
    return { status: 200, headers: { 'Content-Type': 'application/sdp', 'Content-Base': base }, body };
  }

  #waitForTrack(hub: StreamHub): Promise<StreamHub['video']> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        hub.off('track', done);
        resolve(hub.video);
      };
      const timer = setTimeout(done, this.#options.describeWaitMs);
      hub.on('track', done);
    });
  }

  #setup(
    request: RtspRequest,
    path: string,
    socket: Socket,
    existing: RtspSession | undefined,
    owned: Set<RtspSession>,
  ): Reply {
    const target = this.#hubFor(path);
    if (!target) return { status: 404 };
    const trackId = target.track ?? 0;
    if (trackId > 1 || (trackId === 1 && !target.hub.audio)) return { status: 404 };
    if (existing && existing.hub !== target.hub) return { status: 459 };
    if (!existing && this.#sessions.size >= this.#options.maxSessions) {
      this.#log.warn({ max: this.#options.maxSessions }, 'rtsp session limit reached');
      return { status: 453 };
    }
    const specs = parseTransport(request.headers.get('transport') ?? '');
    const spec = specs.find((s) => this.#supports(s, existing));
    if (!spec) return { status: 461 };
    const transport = spec.lowerTransport === 'TCP' ? 'tcp' : 'udp';
    const session =
      existing ??
      new RtspSession(target.hub, transport, this.#options.slowClient, {
        onOverflow: () => {
          this.#log.warn({ session: session.id }, 'rtsp client too slow, disconnected');
          if (transport === 'tcp') socket.destroy();
          this.#endSession(session);
        },
        onSkip: (backlog) =>
          this.#log.info(
            { session: session.id, backlog },
            'rtsp client falling behind, skipping to the next keyframe',
          ),
      });
    const cname = `ipcam-agent-${session.id}`;
    let transportReply: string;
    if (transport === 'tcp') {
      const channels = spec.interleaved ?? [trackId * 2, trackId * 2 + 1];
      session.setupTrack(trackId, tcpSink(socket, channels), cname);
      transportReply = `RTP/AVP/TCP;unicast;interleaved=${channels[0]}-${channels[1]}`;
    } else {
      const udp = this.#udp;
      const ports = spec.clientPort;
      const address = socket.remoteAddress?.replace(/^::ffff:/, '');
      if (!udp || !ports || !address) return { status: 461 };
      session.setupTrack(trackId, udpSink(udp, address, ports), cname);
      transportReply = `RTP/AVP;unicast;client_port=${ports[0]}-${ports[1]};server_port=${udp.rtpPort}-${udp.rtpPort + 1}`;
    }
    const ssrc = session.tracks.get(trackId)?.sender.ssrc ?? 0;
    this.#sessions.set(session.id, session);
    owned.add(session);
    const timeout = Math.round(this.#options.sessionTimeoutMs / 1000);
    return {
      status: 200,
      headers: {
        Transport: `${transportReply};ssrc=${ssrc.toString(16).padStart(8, '0').toUpperCase()}`,
        Session: `${session.id};timeout=${timeout}`,
      },
    };
  }

  #supports(spec: TransportSpec, existing: RtspSession | undefined): boolean {
    if (!spec.unicast) return false;
    if (!spec.protocol.startsWith('RTP/AVP')) return false;
    const transport = spec.lowerTransport === 'TCP' ? 'tcp' : 'udp';
    if (existing && existing.transport !== transport) return false;
    if (transport === 'udp') return this.#options.udp && spec.clientPort !== undefined;
    return true;
  }

  #play(request: RtspRequest, session: RtspSession): Reply {
    if (session.tracks.size === 0) return { status: 455 };
    const base = request.uri.replace(/\/$/, '');
    const { rtpInfo, start } = session.play();
    return {
      status: 200,
      after: start,
      headers: {
        Session: session.id,
        Range: 'npt=0.000-',
        'RTP-Info': rtpInfo
          .map((t) => `url=${base}/trackID=${t.trackId};seq=${t.seq};rtptime=${t.rtptime}`)
          .join(','),
      },
    };
  }

  #endSession(session: RtspSession): void {
    session.close();
    this.#sessions.delete(session.id);
  }

  #touchUdp(address: string, port: number): void {
    for (const session of this.#sessions.values()) {
      if (session.transport !== 'udp') continue;
      for (const { sink } of session.tracks.values()) {
        if ((sink as UdpSink).matches?.(address, port)) session.lastActivity = Date.now();
      }
    }
  }

  #tick(): void {
    const now = Date.now();
    // RFC 3550 suggests about 5 s between sender reports at these bandwidths.
    const reports = ++this.#ticks % 5 === 0;
    for (const session of [...this.#sessions.values()]) {
      if (session.transport === 'udp' && now - session.lastActivity > this.#options.sessionTimeoutMs) {
        this.#log.info({ session: session.id }, 'rtsp session timed out');
        this.#endSession(session);
      } else if (session.playing && reports) {
        session.sendSenderReports(now);
      }
    }
  }
}

interface UdpSink extends PacketSink {
  matches(address: string, port: number): boolean;
}

function tcpSink(socket: Socket, channels: [number, number]): PacketSink {
  return {
    send(packet, rtcp) {
      if (socket.destroyed) return;
      const header = Buffer.from([
        0x24,
        rtcp ? channels[1] : channels[0],
        packet.length >> 8,
        packet.length & 0xff,
      ]);
      socket.write(header);
      socket.write(packet);
    },
    backlog: () => socket.writableLength,
    batch(write) {
      socket.cork();
      write();
      process.nextTick(() => socket.uncork());
    },
  };
}

function udpSink(udp: UdpPair, address: string, ports: [number, number]): UdpSink {
  return {
    send(packet, rtcp) {
      (rtcp ? udp.rtcp : udp.rtp).send(packet, rtcp ? ports[1] : ports[0], address);
    },
    backlog: () => undefined,
    matches: (from, port) => from === address && (port === ports[1] || port === ports[0]),
  };
}
