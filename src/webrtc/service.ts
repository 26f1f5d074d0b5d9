import type { KeyObject } from 'node:crypto';
import type { CloudLink, IncomingMessage } from '../cloud/link.js';
import { levelsAfterRoot, type Topics } from '../cloud/topics.js';
import { AgentError, errorCode, errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import { LogLimit } from '../core/log-limit.js';
import type { Logger } from '../core/logger.js';
import { SerialQueue } from '../core/serial-queue.js';
import type { StreamHub } from '../media/hub.js';
import type { TalkFloor, TalkTurn } from '../media/talk-floor.js';
import type { Settings } from '../settings/schema.js';
import type { WebrtcConfig } from './config.js';
import type { UsedTokens } from './replay.js';
import { ViewerSession } from './session.js';
import {
  isSessionId,
  MAX_CANDIDATE_MESSAGE_BYTES,
  MAX_CLOSE_MESSAGE_BYTES,
  OFFER_OVERHEAD_BYTES,
  parseCandidate,
  parseClose,
  parseOffer,
} from './signaling.js';
import { TokenError, verifyCloudToken } from './token.js';
import { chooseVideo } from './video-choice.js';

export interface WebrtcDeps {
  config: WebrtcConfig;
  deviceId: string;
  link: CloudLink;
  topics: Topics;
  /** WebRTC sends the main stream, or the sub stream when main is not H.264 (video-choice.ts). */
  hubs: { main: StreamHub; sub: StreamHub };
  cloudKeys: () => readonly KeyObject[];
  /** Configured ICE servers plus those from desired state, with their credentials from the store. */
  iceServers: () => WebrtcConfig['iceServers'];
  usedTokens: UsedTokens;
  /** The speaker, shared with the RTSP back channel under the one-talker rule. */
  talk: TalkFloor | undefined;
  settings: () => Settings;
  /** Whether an owner has set the camera up; offers are refused until then. */
  setUp: () => boolean;
  log: Logger;
}

/**
 * Signaling messages waiting for the one before them. Each holds at most one message of its kind's
 * size limit (an offer about 72 KB), so a burst costs at most a few MB before it is dropped.
 */
const MAX_WAITING_MESSAGES = 32;

type Kind = 'offer' | 'candidate' | 'close';

/** What a signaling message may weigh before it is parsed; a larger one is not kept in the queue. */
function sizeLimit(kind: Kind, maxSdpBytes: number): number {
  if (kind === 'offer') return maxSdpBytes + OFFER_OVERHEAD_BYTES;
  return kind === 'candidate' ? MAX_CANDIDATE_MESSAGE_BYTES : MAX_CLOSE_MESSAGE_BYTES;
}

/**
 * Live view over WebRTC, signaled through the cloud link. Every offer must carry a viewer token the
 * cloud signed for this device, unused before; the token's rights decide whether the viewer may talk,
 * and its `exp` when the session ends. Candidates and closes count only when they carry the offer's
 * token (an addition to the contract, docs/webrtc.md). werift is imported only for the first session,
 * so a camera nobody watches does not pay for it.
 */
export class WebrtcService implements Module {
  readonly name = 'webrtc';
  readonly #deps: WebrtcDeps;
  readonly #log: Logger;
  readonly #sessions = new Map<string, ViewerSession>();
  /** The viewer that holds the speaker, and its turn. */
  #talker: { session: ViewerSession; turn: TalkTurn } | undefined;
  #werift: Promise<typeof import('werift')> | undefined;
  // One message at a time: offers, candidates and closes of a session are handled in order.
  readonly #queue: SerialQueue;
  readonly #refusals: LogLimit;

  constructor(deps: WebrtcDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'webrtc' });
    this.#refusals = new LogLimit(this.#log);
    this.#queue = new SerialQueue({
      maxPending: MAX_WAITING_MESSAGES,
      onError: (err) => this.#log.error({ err }, 'signaling failed'),
    });
    deps.link.route(deps.topics.webrtcFilter, (message) => this.#enqueue(message));
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  async start(): Promise<void> {
    await this.#deps.usedTokens.load();
  }

  async stop(): Promise<void> {
    for (const session of [...this.#sessions.values()]) session.close('stopping');
    await this.#queue.idle();
  }

  /** Privacy mode ends every live session at once. */
  async apply(changed: readonly string[]): Promise<void> {
    if (changed.includes('privacyMode') && this.#deps.settings().privacyMode) {
      for (const session of [...this.#sessions.values()]) session.close('privacy_mode');
    }
  }

  /**
   * Checks what is cheap to check (topic, size) before a message may wait in the queue; a full
   * queue drops the message, which the viewer sees as an unanswered offer and may retry.
   */
  #enqueue(message: IncomingMessage): void {
    const levels = levelsAfterRoot(this.#deps.topics, message.topic);
    const [, sessionId = '', kind = ''] = levels ?? [];
    if (kind !== 'offer' && kind !== 'candidate' && kind !== 'close') return; // our own answers
    if (!isSessionId(sessionId)) {
      this.#refusals.warn('session_id', { kind }, 'signaling with an invalid session id ignored');
      return;
    }
    const oversized = message.payload.length > sizeLimit(kind, this.#deps.config.maxSdpBytes);
    if (this.#queue.pending >= MAX_WAITING_MESSAGES) {
      this.#refusals.warn('queue_full', { kind }, 'signaling flood: message dropped');
      return;
    }
    // An oversized message is not kept: only the fact that it came waits for its turn.
    const payload = oversized ? undefined : message.payload;
    this.#queue.push(() => this.#handle(kind, sessionId, payload));
  }

  async #handle(kind: Kind, sessionId: string, payload: Buffer | undefined): Promise<void> {
    switch (kind) {
      case 'offer':
        return this.#offer(sessionId, payload);
      case 'candidate':
        return this.#candidate(sessionId, payload);
      case 'close':
        return this.#close(sessionId, payload);
    }
  }

  async #offer(sessionId: string, payload: Buffer | undefined): Promise<void> {
    const { config, deviceId } = this.#deps;
    let session: ViewerSession | undefined;
    try {
      if (this.#sessions.has(sessionId)) throw new TokenError('token_replayed', 'session already exists');
      if (!payload) throw new AgentError('bad_offer', `sdp is larger than ${config.maxSdpBytes} bytes`);
      const offer = parseOffer(payload, config.maxSdpBytes);
      if (this.#deps.settings().privacyMode)
        throw new AgentError('privacy_mode', 'the camera is in privacy mode');
      // Out of the box there is no owner to watch: the frames serve only the setup QR reader.
      if (!this.#deps.setUp()) throw new AgentError('not_set_up', 'the camera is waiting to be set up');
      const claims = verifyCloudToken(offer.token, {
        keys: this.#deps.cloudKeys(),
        deviceId,
        right: 'live',
        nowMs: Date.now(),
      });
      if (!(await this.#deps.usedTokens.use(claims.jti, claims.exp, Date.now(), claims.iat))) {
        throw new TokenError('token_replayed', 'token was used before');
      }
      if (this.#sessions.size >= config.maxSessions)
        throw new AgentError('busy', `at most ${config.maxSessions} live sessions`);
      const video = chooseVideo(this.#deps.hubs);
      if (!video)
        throw new AgentError('no_h264_stream', 'neither stream is H.264, and WebRTC sends H.264 only');
      const wantsTalk = claims.rights.includes('talk');
      this.#werift ??= import('werift');
      const werift = await this.#werift;
      // Taken and handed to the session with no await between: the floor is shared with RTSP.
      const turn = wantsTalk ? this.#deps.talk?.take('webrtc') : undefined;
      const talk = turn !== undefined;
      let created: ViewerSession;
      try {
        created = new ViewerSession({
          id: sessionId,
          token: offer.token,
          expiresAtMs: claims.exp * 1000,
          werift,
          hub: video.hub,
          config: { ...config, iceServers: this.#deps.iceServers() },
          talk,
          speaker: turn,
          sendCandidate: (candidate) => void this.#publish(sessionId, 'candidate', candidate),
          onClosed: (reason) => this.#onClosed(created, reason),
          log: this.#log,
        });
      } catch (err) {
        turn?.release();
        throw err;
      }
      session = created;
      this.#sessions.set(sessionId, session);
      if (turn) {
        this.#talker = { session, turn };
        await turn.opened;
      }
      const sdp = await session.answer(offer.sdp);
      const talkState = wantsTalk
        ? { talk: talk ? { granted: true } : { granted: false, reason: 'speaker_busy' } }
        : {};
      const videoState = {
        stream: video.stream,
        codec: 'h264',
        ...(video.reason ? { reason: video.reason } : {}),
      };
      await this.#publish(sessionId, 'answer', { sdp, video: videoState, ...talkState });
      session.answerSent();
      this.#log.info(
        { talk, sessions: this.#sessions.size, stream: video.stream },
        'webrtc session answered',
      );
    } catch (err) {
      // Whatever failed after the session existed, it must not keep its place, its ports or the speaker.
      session?.close('refused');
      const code = err instanceof TokenError ? err.code : errorCode(err);
      this.#refusals.warn(`offer_${code}`, { code, err }, 'webrtc offer refused');
      await this.#publish(sessionId, 'answer', { error: { code, message: errorMessage(err) } });
    }
  }

  /** The session this viewer message may act on, or undefined (logged, at a limited rate). */
  #owned(sessionId: string, token: string, kind: 'candidate' | 'close'): ViewerSession | undefined {
    const session = this.#sessions.get(sessionId);
    if (!session) {
      this.#log.debug({ kind }, 'signaling for an unknown session ignored');
      return undefined;
    }
    if (!session.ownedBy(token)) {
      this.#refusals.warn(
        `unauthenticated_${kind}`,
        { kind, session: sessionId },
        `${kind} without the offer's token ignored`,
      );
      return undefined;
    }
    return session;
  }

  #candidate(sessionId: string, payload: Buffer | undefined): void {
    try {
      if (!payload) throw new AgentError('payload_too_large', 'candidate message is too large');
      const { body, token } = parseCandidate(payload);
      // Not awaited: werift resolves a browser's `.local` (mDNS) candidate before it settles, which can
      // take many seconds, and the queue must not wait for it. The per-session cap bounds these.
      this.#owned(sessionId, token, 'candidate')
        ?.addCandidate(body)
        .catch((err: unknown) =>
          this.#refusals.warn(
            `candidate_${errorCode(err)}`,
            { code: errorCode(err), err },
            'candidate refused',
          ),
        );
    } catch (err) {
      this.#refusals.warn(`candidate_${errorCode(err)}`, { code: errorCode(err), err }, 'candidate refused');
    }
  }

  async #close(sessionId: string, payload: Buffer | undefined): Promise<void> {
    try {
      if (!payload) throw new AgentError('payload_too_large', 'close message is too large');
      const { token } = parseClose(payload);
      this.#owned(sessionId, token, 'close')?.close('closed_by_viewer');
    } catch (err) {
      this.#refusals.warn('close', { code: errorCode(err), err }, 'close refused');
    }
  }

  #onClosed(session: ViewerSession, reason: string): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    if (this.#talker?.session === session) {
      this.#talker.turn.release();
      this.#talker = undefined;
    }
    // A refused offer was answered with its error already; a viewer's close needs no echo.
    if (reason !== 'closed_by_viewer' && reason !== 'refused')
      void this.#publish(session.id, 'close', { reason });
  }

  #publish(sessionId: string, kind: 'answer' | 'candidate' | 'close', body: unknown): Promise<void> {
    return this.#deps.link
      .publish(this.#deps.topics.webrtc(sessionId, kind), body, { qos: 1 })
      .catch((err: unknown) => this.#log.warn({ err, kind }, 'could not publish signaling'));
  }
}
