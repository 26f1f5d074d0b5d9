/**
 * Protocomm Security 2 on the device: the `prov-session` handshake (SRP-6a) and the encryption of
 * every later payload. One secure session at a time, as in ESP-IDF, with differences that keep a
 * stranger on the open AP from cutting the owner off (ESP-IDF drops the current session as soon as any
 * other client sends anything):
 * - handshakes may be under way beside the established session, which is replaced only when another
 *   client has proved the code;
 * - nothing a request can carry ends an established session except a proven new handshake: garbage,
 *   a payload that does not authenticate, a command 0 with a bad key or a wrong proof get their error
 *   and the secure state stays as it was (a new handshake on the same session keeps the old keys
 *   until it is proven);
 * - wrong proofs lock out the client address that made them, not everyone, and handshakes are
 *   rate-limited per address and overall (rate-limit.ts).
 */
import { randomBytes } from 'node:crypto';
import { Sec2Cipher } from './cipher.js';
import { ProtocommError } from './errors.js';
import type { ClientLockouts } from './lockout.js';
import type { ModPow } from './modpow.js';
import { decodeSessionCommand, encodeResponse0, encodeResponse1, Status } from './proto/session.js';
import { ProtobufError } from './proto/wire.js';
import type { HandshakeLimiter } from './rate-limit.js';
import { makeSrpCredentials, SRP_3072_SHA512, type SrpCredentials, SrpServer } from './srp.js';
import type { ProvisioningEvent } from './types.js';

/** ESP-IDF's default, and what its apps send unless told otherwise. */
export const SRP_USERNAME = 'wifiprov';
const MAX_USERNAME = 255;

export interface Security2Options {
  /** The label's verification code: the SRP password. */
  password: string;
  lockouts: ClientLockouts;
  limiter: HandshakeLimiter;
  now: () => number;
  /** A session unused this long is dropped; the app must establish a new one. */
  idleTimeoutMs: number;
  /** Between command 0 and command 1. */
  handshakeTimeoutMs: number;
  report: (event: ProvisioningEvent) => void;
  random?: (n: number) => Uint8Array;
  /** The bench passes the former BigInt exponentiation here; OpenSSL's otherwise. */
  modPow?: ModPow;
}

interface Handshake {
  since: number;
  srp: SrpServer;
  username: Uint8Array;
}

interface Slot {
  id: number;
  touched: number;
  /** Present once the session is established. */
  cipher?: Sec2Cipher | undefined;
  /** A handshake between command 0 and command 1. */
  handshake?: Handshake | undefined;
}

export class Security2 {
  readonly #options: Security2Options;
  readonly #random: (n: number) => Uint8Array;
  #credentials: SrpCredentials | undefined;
  /** Bounded by the transport, which keeps only a few sessions. */
  readonly #slots = new Map<number, Slot>();

  constructor(options: Security2Options) {
    this.#options = options;
    this.#random = options.random ?? randomBytes;
  }

  newSession(id: number): void {
    this.#slots.set(id, { id, touched: this.#options.now() });
  }

  closeSession(id: number): void {
    this.#slots.delete(id);
  }

  /** The transport keeps an established session when it has to forget others. */
  isEstablished(id: number): boolean {
    return this.#slots.get(id)?.cipher !== undefined;
  }

  /** The owner pressed the button: wrong-proof lockouts and handshake budgets start afresh. */
  clearLockouts(): void {
    this.#options.lockouts.clear();
    this.#options.limiter.clear();
    this.#options.report({ type: 'lockouts_cleared' });
  }

  /** The session's state, or why there is none. */
  #live(id: number): Slot {
    const slot = this.#slots.get(id);
    if (!slot) throw new ProtocommError('no_session', 'no such session');
    const now = this.#options.now();
    if (now - slot.touched > this.#options.idleTimeoutMs) {
      this.#slots.delete(id);
      throw new ProtocommError('session_expired', 'session expired');
    }
    if (slot.handshake && now - slot.handshake.since > this.#options.handshakeTimeoutMs) {
      slot.handshake = undefined;
    }
    slot.touched = now;
    return slot;
  }

  /** The `prov-session` endpoint. A transport session whose secure state was dropped may start over. */
  handleSession(id: number, body: Uint8Array, client: string): Uint8Array {
    let slot: Slot;
    try {
      slot = this.#live(id);
    } catch {
      this.newSession(id);
      slot = this.#live(id);
    }
    let command: ReturnType<typeof decodeSessionCommand>;
    try {
      command = decodeSessionCommand(body);
    } catch (err) {
      if (err instanceof ProtobufError) throw new ProtocommError('bad_request', err.message);
      throw err;
    }
    const locked = this.#options.lockouts.remainingMs(client);
    if (locked > 0) {
      this.#options.report({ type: 'session_refused_locked', client, retryAfterMs: locked });
      slot.handshake = undefined;
      throw new ProtocommError('locked_out', 'too many wrong proofs', locked);
    }
    if (command.type === 'command0')
      return this.#command0(slot, client, command.username, command.clientPubkey);
    return this.#command1(slot, client, command.clientProof);
  }

  #command0(slot: Slot, client: string, username: Uint8Array, clientPubkey: Uint8Array): Uint8Array {
    // A command 0 restarts the handshake, as in ESP-IDF; an established session keeps its keys until
    // the new handshake is proven, so a refused one changes nothing.
    slot.handshake = undefined;
    if (username.length === 0 || username.length > MAX_USERNAME) {
      throw new ProtocommError('bad_request', 'username length');
    }
    // Checked before any exponentiation: A mod N = 0 (and an empty or oversized A) costs nothing.
    if (!SrpServer.acceptable(SRP_3072_SHA512, clientPubkey)) {
      throw new ProtocommError('bad_public_key', 'client public key unusable');
    }
    const decision = this.#options.limiter.take(client);
    if (!decision.allowed) {
      if (decision.first) {
        this.#options.report({
          type: 'handshakes_limited',
          client,
          scope: decision.scope,
          retryAfterMs: decision.retryAfterMs,
        });
      }
      throw new ProtocommError(
        'rate_limited',
        `too many handshakes (${decision.scope})`,
        decision.retryAfterMs,
      );
    }
    this.#credentials ??= makeSrpCredentials(
      SRP_USERNAME,
      this.#options.password,
      SRP_3072_SHA512,
      this.#random,
    );
    const srp = SrpServer.start(SRP_3072_SHA512, this.#credentials, clientPubkey, {
      random: this.#random,
      ...(this.#options.modPow ? { modPow: this.#options.modPow } : {}),
    });
    if (!srp) throw new ProtocommError('bad_public_key', 'client public key unusable');
    slot.handshake = { since: this.#options.now(), srp, username: Uint8Array.from(username) };
    return encodeResponse0(Status.Success, srp.B, this.#credentials.salt);
  }

  #command1(slot: Slot, client: string, clientProof: Uint8Array): Uint8Array {
    const handshake = slot.handshake;
    if (!handshake) throw new ProtocommError('out_of_sequence', 'command 1 without a command 0 under way');
    slot.handshake = undefined;
    const deviceProof = handshake.srp.verify(handshake.username, clientProof);
    if (!deviceProof) {
      const failures = this.#options.lockouts.failures(client) + 1;
      const lockedForMs = this.#options.lockouts.recordFailure(client);
      this.#options.report({ type: 'proof_failed', client, failures, lockedForMs });
      throw new ProtocommError('proof_failed', 'client proof does not match');
    }
    this.#options.lockouts.recordSuccess(client);
    const cipher = new Sec2Cipher(handshake.srp.sessionKey, this.#random(8));
    for (const other of this.#slots.values()) other.cipher = undefined;
    slot.cipher = cipher;
    this.#options.report({ type: 'session_established', client });
    return encodeResponse1(Status.Success, deviceProof, cipher.deviceNonce);
  }

  #cipher(id: number): Sec2Cipher {
    const slot = this.#live(id);
    if (!slot.cipher) throw new ProtocommError('no_session', 'secure session not established');
    if (!slot.cipher.usable) {
      slot.cipher = undefined;
      throw new ProtocommError('session_expired', 'nonce counter exhausted');
    }
    return slot.cipher;
  }

  /**
   * A payload that does not authenticate is refused and changes nothing: the nonce counter stays
   * where it was, so the app's next genuine request still decrypts. Whoever sent it cannot end the
   * session with it.
   */
  decrypt(id: number, body: Uint8Array): Uint8Array {
    const plaintext = this.#cipher(id).decrypt(body);
    if (!plaintext) throw new ProtocommError('decrypt_failed', 'payload does not authenticate');
    return plaintext;
  }

  encrypt(id: number, plaintext: Uint8Array): Uint8Array {
    return this.#cipher(id).encrypt(plaintext);
  }
}
