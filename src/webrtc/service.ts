import type { KeyObject } from 'node:crypto';
import type { CloudLink, IncomingMessage } from '../cloud/link.js';
import { levelsAfterRoot, type Topics } from '../cloud/topics.js';
import { AgentError, errorCode, errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { StreamHub } from '../media/hub.js';
import type { Settings } from '../settings/schema.js';
import type { WebrtcConfig } from './config.js';
import type { UsedTokens } from './replay.js';
import { ViewerSession } from './session.js';
import { isSessionId, parseCandidate, parseOffer } from './signaling.js';
import type { Speaker } from './speaker.js';
import { TokenError, verifyViewerToken } from './token.js';

export interface WebrtcDeps {
  config: WebrtcConfig;
  deviceId: string;
  link: CloudLink;
  topics: Topics;
  hub: StreamHub;
  cloudKeys: () => readonly KeyObject[];
  /** Configured ICE servers plus those from desired state, with their credentials from the store. */
  iceServers: () => WebrtcConfig['iceServers'];
  usedTokens: UsedTokens;
  speaker: Speaker | undefined;
  settings: () => Settings;
  log: Logger;
}

/**
 * Live view over WebRTC, signaled through the cloud link. Every offer must carry a viewer token the
 * cloud signed for this device, unused before; the token's rights decide whether the viewer may talk.
 * werift is imported only for the first session, so a camera nobody watches does not pay for it.
 */
export class WebrtcService implements Module {
  readonly name = 'webrtc';
  readonly #deps: WebrtcDeps;
  readonly #log: Logger;
  readonly #sessions = new Map<string, ViewerSession>();
  #talker: ViewerSession | undefined;
  #werift: Promise<typeof import('werift')> | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(deps: WebrtcDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'webrtc' });
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
    await this.#queue;
  }

  /** Privacy mode ends every live session at once. */
  async apply(changed: readonly string[]): Promise<void> {
    if (changed.includes('privacyMode') && this.#deps.settings().privacyMode) {
      for (const session of [...this.#sessions.values()]) session.close('privacy_mode');
    }
  }

  // One message at a time: offers, candidates and closes of a session arrive in order.
  #enqueue(message: IncomingMessage): Promise<void> {
    this.#queue = this.#queue
      .then(() => this.#handle(message))
      .catch((err: unknown) => this.#log.error({ err }, 'signaling failed'));
    return this.#queue;
  }

  async #handle(message: IncomingMessage): Promise<void> {
    const levels = levelsAfterRoot(this.#deps.topics, message.topic);
    const [, sessionId = '', kind = ''] = levels ?? [];
    if (!isSessionId(sessionId)) {
      this.#log.warn({ kind }, 'signaling with an invalid session id ignored');
      return;
    }
    switch (kind) {
      case 'offer':
        return this.#offer(sessionId, message.payload);
      case 'candidate':
        return this.#candidate(sessionId, message.payload);
      case 'close':
        this.#sessions.get(sessionId)?.close('closed_by_viewer');
        return;
      default:
        return; // our own answers and candidates come back through the same filter
    }
  }

  async #offer(sessionId: string, payload: Buffer): Promise<void> {
    const { config, deviceId } = this.#deps;
    try {
      if (this.#sessions.has(sessionId)) throw new TokenError('token_replayed', 'session already exists');
      const offer = parseOffer(payload, config.maxSdpBytes);
      if (this.#deps.settings().privacyMode)
        throw new AgentError('privacy_mode', 'the camera is in privacy mode');
      const claims = verifyViewerToken(offer.token, {
        keys: this.#deps.cloudKeys(),
        deviceId,
        right: 'live',
        nowMs: Date.now(),
      });
      if (!(await this.#deps.usedTokens.use(claims.jti, claims.exp, Date.now()))) {
        throw new TokenError('token_replayed', 'token was used before');
      }
      if (this.#sessions.size >= config.maxSessions)
        throw new AgentError('busy', `at most ${config.maxSessions} live sessions`);
      const wantsTalk = claims.rights.includes('talk');
      const talk = wantsTalk && this.#talker === undefined && this.#deps.speaker !== undefined;
      this.#werift ??= import('werift');
      const session = new ViewerSession({
        id: sessionId,
        werift: await this.#werift,
        hub: this.#deps.hub,
        config: { ...config, iceServers: this.#deps.iceServers() },
        talk,
        speaker: this.#deps.speaker,
        sendCandidate: (candidate) => void this.#publish(sessionId, 'candidate', candidate),
        onClosed: (reason) => this.#onClosed(session, reason),
        log: this.#log,
      });
      this.#sessions.set(sessionId, session);
      if (talk) {
        this.#talker = session;
        await this.#deps.speaker?.open();
      }
      const sdp = await session.answer(offer.sdp).catch((err: unknown) => {
        session.close('bad_offer');
        throw new AgentError('bad_offer', `offer could not be answered: ${errorMessage(err)}`);
      });
      const talkState = wantsTalk
        ? { talk: talk ? { granted: true } : { granted: false, reason: 'speaker_busy' } }
        : {};
      await this.#publish(sessionId, 'answer', { sdp, ...talkState });
      this.#log.info({ talk, sessions: this.#sessions.size }, 'webrtc session answered');
    } catch (err) {
      const code = err instanceof TokenError ? err.code : errorCode(err);
      this.#log.warn({ code, err }, 'webrtc offer refused');
      await this.#publish(sessionId, 'answer', { error: { code, message: errorMessage(err) } });
    }
  }

  async #candidate(sessionId: string, payload: Buffer): Promise<void> {
    const session = this.#sessions.get(sessionId);
    if (!session) {
      this.#log.debug('candidate for an unknown session ignored');
      return;
    }
    try {
      await session.addCandidate(parseCandidate(payload));
    } catch (err) {
      this.#log.warn({ code: errorCode(err), err }, 'candidate refused');
    }
  }

  #onClosed(session: ViewerSession, reason: string): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    if (this.#talker === session) {
      this.#talker = undefined;
      void this.#deps.speaker
        ?.close()
        .catch((err: unknown) => this.#log.warn({ err }, 'speaker close failed'));
    }
    if (reason !== 'closed_by_viewer') void this.#publish(session.id, 'close', { reason });
  }

  #publish(sessionId: string, kind: 'answer' | 'candidate' | 'close', body: unknown): Promise<void> {
    return this.#deps.link
      .publish(this.#deps.topics.webrtc(sessionId, kind), body, { qos: 1 })
      .catch((err: unknown) => this.#log.warn({ err, kind }, 'could not publish signaling'));
  }
}
