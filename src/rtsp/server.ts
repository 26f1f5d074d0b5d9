import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { LogLimit } from '../core/log-limit.js';
import type { Logger } from '../core/logger.js';
import type { StreamHub } from '../media/hub.js';
import type { TalkFloor, TalkTurn } from '../media/talk-floor.js';
import type { StreamName } from '../media/types.js';
import { parseRtcp } from '../rtp/rtcp.js';
import {
  BACKCHANNEL_TAG,
  BACKCHANNEL_TRACK,
  BackchannelReceiver,
  type DropReason,
  parseRequire,
} from './backchannel.js';
import { type Reply, RtspConnection } from './connection.js';
import { ConnectionLimits } from './connection-limits.js';
import { type Credentials, DigestAuthenticator } from './digest.js';
import { parseRtspUrl, parseTransport, type RtspRequest } from './message.js';
import {
  isPlaybackPath,
  type PlaybackLibrary,
  PlaybackRoutes,
  type PlaybackUrl,
  parsePlaybackUrl,
  playbackBase,
} from './playback.js';
import { PlaybackSession, type ServedSession } from './playback-session.js';
import { buildSdp } from './sdp.js';
import { RtspSession, type SlowClientPolicy } from './session.js';
import { tcpSink, type UdpSink, udpSink } from './sinks.js';
import { StreamPackets } from './stream-packets.js';
import { acceptableTransport, freeChannels } from './transport-choice.js';
import { bindUdpPair, RTP_SEND_BUFFER_BYTES, sendBufferCapped, type UdpPair } from './udp.js';

export interface RtspServerOptions {
  host: string;
  port: number;
  /** 0: any free even pair. */
  udpPort: number;
  udp: boolean;
  hubs: Record<StreamName, StreamHub>;
  /** Read at each request, so new credentials from desired state apply at once. Never absent. */
  credentials: () => Credentials;
  allowBasic: boolean;
  nonceTtlMs: number;
  sessionTimeoutMs: number;
  maxSessions: number;
  maxSessionsPerConnection: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** A connection without a session closes after this long without a complete request. */
  idleTimeoutMs: number;
  /** How long DESCRIBE waits for the first keyframe of a stream that just started. */
  describeWaitMs: number;
  slowClient: SlowClientPolicy;
  /** The speaker for the ONVIF back channel (one talker at a time, shared with WebRTC); none: no back channel. */
  talk?: TalkFloor | undefined;
  /** Recordings for `/playback` (docs/recording.md); absent: 404 there. */
  playback?: PlaybackLibrary;
  log: Logger;
}

/** A session and what the server knows about it beyond the media: whose it is and how it got in. */
interface SessionEntry {
  session: ServedSession;
  connection: RtspConnection;
  /** Hash of the credentials that set it up: a change of credentials ends it. */
  credentialTag: string;
  /** The ONVIF back channel's receiver when that track is set up, holding the speaker. */
  backchannel?: Backchannel;
}

interface Backchannel {
  receiver: BackchannelReceiver;
  turn: TalkTurn;
  /** Over TCP: the interleaved channel its RTP comes on. Over UDP: the client's ports. */
  channel?: number;
  udp?: UdpSink;
}

const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER';
/** Wrong credentials this many times on one connection: it is guessing, not mistyping. */
const MAX_FAILED_AUTH = 10;
/** Floods are summed up in one log line per this many ticks (seconds) instead of one per event. */
const REFUSAL_LOG_EVERY_TICKS = 10;

type UrlParts = { path: string; query: string };

interface SetupTarget {
  /** What a session's tracks share: a hub, or a recorded range. */
  source: unknown;
  track: number;
  hasAudio: boolean;
  hub: StreamHub | undefined;
  playback: PlaybackUrl | undefined;
}

/** What a session's tracks share: a hub, or a recorded range. */
function sourceOf(session: ServedSession): unknown {
  return session instanceof PlaybackSession ? session.source : session.hub;
}

function credentialTag(credentials: Credentials): string {
  return createHash('sha256').update(`${credentials.username}\0${credentials.password}`).digest('hex');
}

/**
 * RTSP 1.0 server (RFC 2326) for `/main` and `/sub`: RTP over TCP (interleaved) and UDP, Digest
 * authentication always, instant start from the cached GOP. Connections, sessions and their lifetimes
 * are bounded (see RtspServerOptions); every value a client sends is validated where it is parsed.
 */
export class RtspServer {
  readonly #options: RtspServerOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<string, SessionEntry>();
  /** Each stream's packets, built once for all of its sessions. */
  readonly #packets = new Map<StreamHub, StreamPackets>();
  readonly #limits: ConnectionLimits<RtspConnection>;
  #server: Server | undefined;
  #udp: UdpPair | undefined;
  readonly #auth: DigestAuthenticator;
  readonly #playback: PlaybackRoutes | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;
  #port = 0;
  #malformedCount = 0;
  readonly #drops: LogLimit;

  constructor(options: RtspServerOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#auth = new DigestAuthenticator({
      realm: 'ipcam-agent',
      allowBasic: options.allowBasic,
      nonceTtlMs: options.nonceTtlMs,
    });
    this.#limits = new ConnectionLimits<RtspConnection>(options.maxConnections, options.maxConnectionsPerIp);
    this.#drops = new LogLimit(this.#log);
    this.#playback = options.playback && new PlaybackRoutes(options.playback, options.log);
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

  get connectionCount(): number {
    return this.#limits.size;
  }

  async start(): Promise<void> {
    const { host, port, udp, udpPort } = this.#options;
    if (udp) {
      this.#udp = await bindUdpPair(host, udpPort);
      this.#udp.rtcp.on('message', (msg, from) => this.#onUdpRtcp(msg, from.address, from.port));
      this.#udp.rtp.on('message', (msg, from) => this.#onUdpRtp(msg, from.address, from.port));
      this.#udp.rtp.on('error', (err) => this.#log.warn({ err }, 'udp rtp socket error'));
      this.#udp.rtcp.on('error', (err) => this.#log.warn({ err }, 'udp rtcp socket error'));
      const { batch, sendBufferBytes } = this.#udp;
      if ('addon' in batch) this.#log.info({ send: 'sendmmsg', sendBufferBytes }, 'rtsp udp send');
      else this.#log.info({ send: 'dgram', why: batch.unavailable, sendBufferBytes }, 'rtsp udp send');
      // Info, not warn: a stock kernel caps it, and the daemon works the same, at more CPU per viewer.
      if (sendBufferCapped(sendBufferBytes))
        this.#log.info(
          { sendBufferBytes, wanted: 2 * RTP_SEND_BUFFER_BYTES },
          'rtp send buffer capped by net.core.wmem_max: keyframes for UDP viewers partly go one datagram at a time (systemd/sysctl.d/60-ipcam-agent.conf raises it)',
        );
    }
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    server.on('error', (err) => this.#log.warn({ err }, 'rtsp listener error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.#port = typeof address === 'object' && address ? address.port : port;
    this.#timer = setInterval(() => this.#tick(), 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.closeAll();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    await this.#udp?.close();
  }

  /** Ends every session and connection (privacy mode, RTSP turned off). */
  closeAll(): void {
    for (const connection of this.#limits.all()) connection.close();
    for (const entry of [...this.#sessions.values()]) this.#endSession(entry);
  }

  /**
   * The credentials may have changed (desired state): sessions set up with other ones end, and their
   * connections close, so a password change locks out whoever had the old one.
   */
  credentialsChanged(): void {
    const tag = credentialTag(this.#options.credentials());
    let ended = 0;
    for (const entry of [...this.#sessions.values()]) {
      if (entry.credentialTag === tag) continue;
      ended += 1;
      this.#endSession(entry);
      if (entry.session.transport === 'tcp') entry.connection.close();
    }
    for (const connection of this.#limits.all()) {
      if (connection.authTag !== undefined && connection.authTag !== tag) connection.close();
    }
    if (ended > 0)
      this.#log.info({ sessions: ended }, 'rtsp credentials changed: sessions using the old ones ended');
  }

  #accept(socket: Socket): void {
    const remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const victim = this.#limits.makeRoom(remote);
    if (victim === false) {
      socket.destroy();
      return;
    }
    victim?.close();
    const connection = new RtspConnection(
      socket,
      {
        request: (request, conn) => this.#handle(request, conn),
        interleaved: (channel, data, conn) => this.#onInterleaved(channel, data, conn),
        closed: (conn) => this.#closed(conn),
        malformed: (status, reason, conn) => this.#malformed(status, reason, conn),
      },
      this.#log,
    );
    this.#limits.add(connection);
  }

  /** The first malformed request in a while is logged in full; the rest are counted (see #tick). */
  #malformed(status: number, reason: string, connection: RtspConnection): void {
    this.#malformedCount += 1;
    if (this.#malformedCount === 1) {
      this.#log.warn({ status, reason, remote: connection.remote }, 'bad rtsp request');
    } else {
      this.#log.debug({ status, reason, remote: connection.remote }, 'bad rtsp request');
    }
  }

  #closed(connection: RtspConnection): void {
    this.#limits.remove(connection);
    // Sessions carried on this connection die with it; UDP sessions live on until TEARDOWN or timeout.
    for (const session of connection.sessions) {
      const entry = this.#sessions.get(session.id);
      if (entry && session.transport === 'tcp') this.#endSession(entry);
    }
    connection.channels.clear();
  }

  async #handle(request: RtspRequest, connection: RtspConnection): Promise<Reply> {
    const cseq = request.headers.get('cseq');
    if (cseq === undefined || !/^\d{1,10}$/.test(cseq.trim())) return { status: 400 };
    const url = request.uri === '*' ? { path: '*', query: '' } : parseRtspUrl(request.uri);
    if (!url) return { status: 400 };
    // RFC 2326 12.32: an option the server does not know is refused, naming it in Unsupported.
    const require = parseRequire(request.headers.get('require'));
    if (require.unsupported.length > 0 || (require.backchannel && !this.#options.talk?.hasSpeaker)) {
      const unsupported = require.backchannel && !this.#options.talk?.hasSpeaker ? [BACKCHANNEL_TAG] : [];
      return { status: 551, headers: { Unsupported: [...require.unsupported, ...unsupported].join(', ') } };
    }
    const sessionId = request.headers.get('session')?.split(';')[0]?.trim();
    const entry = sessionId ? this.#ownSession(sessionId, connection) : undefined;
    if (request.method === 'OPTIONS') {
      // Some clients keep a session alive with OPTIONS, which needs no credentials.
      if (entry) entry.session.lastActivity = Date.now();
      return { status: 200, headers: { Public: PUBLIC } };
    }

    const auth = this.#authorize(request, connection);
    if ('reply' in auth) return auth.reply;
    if (sessionId && !entry) return { status: 454 };
    if (entry) entry.session.lastActivity = Date.now();

    switch (request.method) {
      case 'DESCRIBE':
        return this.#describe(request, url, connection.socket, require.backchannel);
      case 'SETUP':
        return this.#setup(request, url, connection, entry, auth.tag, require.backchannel);
      case 'PLAY':
        if (!entry) return { status: 454 };
        if (entry.session instanceof PlaybackSession) {
          const base = request.uri.replace(/\/$/, '');
          const { session } = entry;
          const { range, scale } = {
            range: request.headers.get('range'),
            scale: request.headers.get('scale'),
          };
          return this.#playback?.play(session, range, scale, base) ?? { status: 454 };
        }
        return this.#play(request, entry.session);
      case 'PAUSE':
        if (!entry) return { status: 454 };
        entry.session.pause();
        return { status: 200, headers: { Session: entry.session.id } };
      case 'TEARDOWN':
        if (entry) this.#endSession(entry);
        return { status: 200 };
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return { status: 200, headers: entry ? { Session: entry.session.id } : {} };
      case 'ANNOUNCE':
      case 'RECORD':
        return { status: 405, headers: { Allow: PUBLIC } };
      default:
        return { status: 501, headers: { Public: PUBLIC } };
    }
  }

  /**
   * A session this connection may act on: a TCP session only on its own connection (its media flows
   * there), a UDP one from the same peer address.
   */
  #ownSession(id: string, connection: RtspConnection): SessionEntry | undefined {
    const entry = this.#sessions.get(id);
    if (!entry) return undefined;
    if (entry.session.transport === 'tcp') return entry.connection === connection ? entry : undefined;
    return entry.connection.remote === connection.remote ? entry : undefined;
  }

  #authorize(request: RtspRequest, connection: RtspConnection): { tag: string } | { reply: Reply } {
    const credentials = this.#options.credentials();
    const result = this.#auth.verify(
      request,
      request.headers.get('authorization'),
      credentials,
      connection.nonces,
    );
    if (result === 'ok') {
      const tag = credentialTag(credentials);
      connection.authTag = tag;
      return { tag };
    }
    let close = false;
    if (result === 'invalid') {
      connection.failedAuth += 1;
      // One line per connection: a guessing client must not turn into a flood of log lines.
      if (connection.failedAuth === 1) {
        this.#log.warn({ method: request.method, remote: connection.remote }, 'rtsp authentication failed');
      }
      close = connection.failedAuth >= MAX_FAILED_AUTH;
    }
    return {
      reply: {
        status: 401,
        headers: { 'WWW-Authenticate': this.#auth.challenge(connection.nonces, result === 'stale') },
        close,
      },
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

  async #describe(request: RtspRequest, url: UrlParts, socket: Socket, backchannel: boolean): Promise<Reply> {
    const host = socket.localAddress?.replace(/^::ffff:/, '') ?? '0.0.0.0';
    if (isPlaybackPath(url.path)) {
      const target = parsePlaybackUrl(url.path, url.query);
      if (!target) return { status: this.#playback ? 400 : 404 };
      return this.#playback ? this.#playback.describe(target, request.uri, host) : { status: 404 };
    }
    const target = this.#hubFor(url.path);
    if (!target || target.track !== undefined) return { status: 404 };
    const video = target.hub.video ?? (await this.#waitForTrack(target.hub));
    if (!video) return { status: 503, headers: { 'Retry-After': 2 } };
    const base = `${request.uri.replace(/\/$/, '')}/`;
    const body = buildSdp({
      sessionId: String(Date.now()),
      host,
      name: `ipcam-agent ${target.name}`,
      video,
      audio: target.hub.soundTrack,
      backchannel,
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

  /** What SETUP names: a live stream or a recorded range (source: what a session's tracks share). */
  #setupTarget(url: UrlParts): SetupTarget | undefined {
    if (isPlaybackPath(url.path)) {
      const playback = this.#playback && parsePlaybackUrl(url.path, url.query);
      if (!playback) return undefined;
      return {
        source: playbackBase(playback),
        track: playback.track ?? 0,
        hasAudio: true,
        hub: undefined,
        playback,
      };
    }
    const target = this.#hubFor(url.path);
    if (!target) return undefined;
    return {
      source: target.hub,
      track: target.track ?? 0,
      hasAudio: target.hub.soundTrack !== undefined,
      hub: target.hub,
      playback: undefined,
    };
  }

  async #setup(
    request: RtspRequest,
    url: UrlParts,
    connection: RtspConnection,
    existing: SessionEntry | undefined,
    tag: string,
    backchannel: boolean,
  ): Promise<Reply> {
    const target = this.#setupTarget(url);
    if (!target) return { status: 404 };
    const trackId = target.track;
    // The back channel's track exists only for a client that requires it (it is in its SDP only), and
    // never on a playback.
    if (trackId === BACKCHANNEL_TRACK && (!backchannel || target.playback)) return { status: 404 };
    if (trackId > BACKCHANNEL_TRACK || (trackId === 1 && !target.hasAudio)) return { status: 404 };
    if (existing && sourceOf(existing.session) !== target.source) return { status: 459 };
    // Changing a track's transport is not offered: the client sets up a new session instead.
    if (existing?.session.tracks.has(trackId)) return { status: 455 };
    if (!existing && this.#sessions.size >= this.#options.maxSessions) {
      this.#log.warn({ max: this.#options.maxSessions }, 'rtsp session limit reached');
      return { status: 453 };
    }
    if (!existing && connection.sessions.size >= this.#options.maxSessionsPerConnection) {
      this.#log.warn({ remote: connection.remote }, 'rtsp session limit per connection reached');
      return { status: 453 };
    }
    const specs = parseTransport(request.headers.get('transport') ?? '');
    const context = {
      peer: connection.remote,
      udpEnabled: this.#options.udp,
      sessionTransport: existing?.session.transport,
      channelsInUse: connection.channels,
    };
    const spec = specs.find((s) => acceptableTransport(s, context));
    if (!spec) return { status: 461 };
    const transport = spec.lowerTransport === 'TCP' ? 'tcp' : 'udp';
    const channels =
      transport === 'tcp' ? (spec.interleaved ?? freeChannels(connection.channels)) : undefined;
    if (transport === 'tcp' && !channels) return { status: 461 };
    const udp = this.#udp;
    if (transport === 'udp' && (!udp || !spec.clientPort)) return { status: 461 };
    let turn: TalkTurn | undefined;
    if (trackId === BACKCHANNEL_TRACK) {
      // One talker at a time, whether over WebRTC or here: a second one is refused while the first talks.
      turn = this.#options.talk?.take('rtsp');
      if (!turn) {
        this.#drops.info(
          'backchannel_busy',
          { remote: connection.remote, talker: this.#options.talk?.talker },
          'rtsp back channel refused: speaker busy',
        );
        return { status: 453 };
      }
      try {
        await turn.opened;
      } catch (err) {
        turn.release();
        this.#log.warn({ err }, 'speaker could not be opened for the rtsp back channel');
        return { status: 500 };
      }
      // The connection may have gone, or another SETUP been handled, while the speaker opened.
      const raced =
        connection.closed || (existing !== undefined && this.#sessions.get(existing.session.id) !== existing);
      if (raced) {
        turn.release();
        return { status: 454 };
      }
    }

    let created: ServedSession | undefined;
    if (!existing && target.playback && this.#playback) {
      const made = await this.#playback.session(target.playback, transport, (s) =>
        this.#log.info({ session: s.id }, 'rtsp playback reached the end of its range'),
      );
      if (!(made instanceof PlaybackSession)) {
        turn?.release();
        return made;
      }
      if (trackId === 1 && !made.init.audio) {
        made.close();
        return { status: 404 };
      }
      created = made;
    } else if (!existing && target.hub) created = this.#newSession(target.hub, transport, connection);
    if (existing?.session instanceof PlaybackSession && trackId === 1 && !existing.session.init.audio)
      return { status: 404 };
    if (!existing && !created) {
      turn?.release();
      return { status: 404 };
    }
    const entry: SessionEntry = existing ?? {
      session: created as ServedSession,
      connection,
      credentialTag: tag,
    };
    const { session } = entry;
    const cname = `ipcam-agent-${session.id}`;
    if (turn)
      entry.backchannel = this.#backchannel(session.id, turn, channels, spec.clientPort, connection.remote);
    let transportReply: string;
    if (channels) {
      session.setupTrack(trackId, tcpSink(connection.socket, channels), cname);
      connection.channels.set(channels[0], { session, rtcp: false });
      connection.channels.set(channels[1], { session, rtcp: true });
      transportReply = `RTP/AVP/TCP;unicast;interleaved=${channels[0]}-${channels[1]}`;
    } else {
      const ports = spec.clientPort as [number, number];
      const rtpPort = (udp as UdpPair).rtpPort;
      session.setupTrack(trackId, udpSink(udp as UdpPair, connection.remote, ports), cname);
      transportReply = `RTP/AVP;unicast;client_port=${ports[0]}-${ports[1]};server_port=${rtpPort}-${rtpPort + 1}`;
    }
    const ssrc = session.tracks.get(trackId)?.sender.ssrc ?? 0;
    this.#sessions.set(session.id, entry);
    connection.sessions.add(session);
    const timeout = Math.round(this.#options.sessionTimeoutMs / 1000);
    return {
      status: 200,
      headers: {
        Transport: `${transportReply};ssrc=${ssrc.toString(16).padStart(8, '0').toUpperCase()}`,
        Session: `${session.id};timeout=${timeout}`,
      },
    };
  }

  #newSession(hub: StreamHub, transport: 'tcp' | 'udp', connection: RtspConnection): RtspSession {
    let packets = this.#packets.get(hub);
    if (!packets) {
      packets = new StreamPackets();
      this.#packets.set(hub, packets);
    }
    const session: RtspSession = new RtspSession(hub, packets, transport, this.#options.slowClient, {
      onOverflow: () => {
        this.#log.warn({ session: session.id }, 'rtsp client too slow, disconnected');
        const entry = this.#sessions.get(session.id);
        if (entry) this.#endSession(entry);
        if (transport === 'tcp') connection.close();
      },
      onSkip: (backlog) =>
        this.#log.info(
          { session: session.id, transport, backlog },
          transport === 'udp'
            ? 'rtsp udp send queue over the limit (link saturated), skipping to the next keyframe'
            : 'rtsp client falling behind, skipping to the next keyframe',
        ),
      onBurstAbandoned: (owed) =>
        this.#log.info(
          { session: session.id, owed },
          'rtsp client did not take the cached GOP in time, going on from the next keyframe',
        ),
      onPlay: (burst) =>
        this.#log.info(
          { session: session.id, transport, burstFrames: burst.videoFrames, burstBytes: burst.bytes },
          'rtsp play',
        ),
    });
    return session;
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
          // Without cached media for a track its first timestamp is not known yet: rtptime is optional.
          .map(
            (t) =>
              `url=${base}/trackID=${t.trackId};seq=${t.seq}${t.rtptime === undefined ? '' : `;rtptime=${t.rtptime}`}`,
          )
          .join(','),
      },
    };
  }

  #backchannel(
    sessionId: string,
    turn: TalkTurn,
    channels: readonly [number, number] | undefined,
    clientPort: readonly [number, number] | undefined,
    remote: string,
  ): Backchannel {
    const receiver = new BackchannelReceiver({
      play: (ulaw) => turn.play(ulaw),
      onDrop: (reason: DropReason) =>
        this.#drops.warn(
          `backchannel_${reason}`,
          { reason, session: sessionId },
          'rtsp back channel packet dropped',
        ),
    });
    this.#log.info({ session: sessionId, transport: channels ? 'tcp' : 'udp' }, 'rtsp back channel set up');
    const udp = !channels && clientPort && this.#udp ? udpSink(this.#udp, remote, clientPort) : undefined;
    return { receiver, turn, ...(channels ? { channel: channels[0] } : {}), ...(udp ? { udp } : {}) };
  }

  /** RTP of a back channel, played once its session plays; it also keeps the session alive. */
  #onBackchannelRtp(entry: SessionEntry, data: Buffer): void {
    const backchannel = entry.backchannel;
    if (!backchannel || !entry.session.playing) return;
    if (backchannel.receiver.receive(data)) entry.session.lastActivity = Date.now();
  }

  #endSession(entry: SessionEntry): void {
    const { session, connection } = entry;
    if (entry.backchannel) {
      entry.backchannel.turn.release();
      this.#log.info(
        { session: session.id, bytes: entry.backchannel.receiver.received },
        'rtsp back channel ended',
      );
      entry.backchannel = undefined;
    }
    session.close();
    this.#sessions.delete(session.id);
    connection.sessions.delete(session);
    for (const [channel, bound] of connection.channels) {
      if (bound.session === session) connection.channels.delete(channel);
    }
  }

  /**
   * RTCP from a client over TCP keeps its session alive; RTP on a back channel's channel is played;
   * anything else on a channel is dropped.
   */
  #onInterleaved(channel: number, data: Buffer, connection: RtspConnection): void {
    const bound = connection.channels.get(channel);
    if (!bound) return;
    if (!bound.rtcp) {
      const entry = this.#sessions.get(bound.session.id);
      if (entry?.backchannel?.channel === channel) this.#onBackchannelRtp(entry, data);
      return;
    }
    if (parseRtcp(data).length > 0) bound.session.lastActivity = Date.now();
  }

  /** RTP to the server's port comes only from back channels; from anyone else it is dropped. */
  #onUdpRtp(msg: Buffer, address: string, port: number): void {
    for (const entry of this.#sessions.values()) {
      if (entry.backchannel?.udp?.matches(address, port)) {
        this.#onBackchannelRtp(entry, msg);
        return;
      }
    }
  }

  #onUdpRtcp(msg: Buffer, address: string, port: number): void {
    if (parseRtcp(msg).length === 0) return;
    for (const { session } of this.#sessions.values()) {
      if (session.transport !== 'udp') continue;
      for (const { sink } of session.tracks.values()) {
        if ((sink as UdpSink).matches?.(address, port)) session.lastActivity = Date.now();
      }
    }
  }

  #tick(): void {
    const now = Date.now();
    this.#ticks += 1;
    // RFC 3550 suggests about 5 s between sender reports at these bandwidths.
    const reports = this.#ticks % 5 === 0;
    for (const entry of [...this.#sessions.values()]) {
      const { session } = entry;
      if (now - session.lastActivity > this.#options.sessionTimeoutMs) {
        this.#log.info({ session: session.id, transport: session.transport }, 'rtsp session timed out');
        this.#endSession(entry);
        if (session.transport === 'tcp') entry.connection.close();
      } else if (session.playing && reports) {
        session.sendSenderReports(now);
      }
    }
    for (const connection of this.#limits.all()) {
      if (connection.sessions.size === 0 && now - connection.lastRequestAt > this.#options.idleTimeoutMs) {
        this.#log.debug({ remote: connection.remote }, 'idle rtsp connection closed');
        connection.close();
      }
    }
    if (this.#ticks % REFUSAL_LOG_EVERY_TICKS === 0) {
      if (this.#malformedCount > 1) {
        this.#log.warn({ count: this.#malformedCount }, 'bad rtsp requests since the last report');
      }
      this.#malformedCount = 0;
      const { refused, evicted } = this.#limits.takeCounts();
      if (refused + evicted > 0) {
        this.#log.warn(
          { refused, evicted, open: this.#limits.size },
          'rtsp connection cap reached: connections refused or evicted',
        );
      }
    }
  }
}
