/**
 * Protocomm Security 2 on the device: the `prov-session` handshake (SRP-6a) and the encryption of
 * every later payload. One secure session at a time, as in ESP-IDF, with one difference: ESP-IDF drops
 * the current session as soon as any other client sends anything, which lets anyone on the open AP cut
 * the owner off. Here handshakes may be under way beside the established session, and it is replaced
 * only when another client has proved the code.
 */
import { randomBytes } from 'node:crypto';
import { Sec2Cipher } from './cipher.js';
import { ProtocommError } from './errors.js';
import type { Lockout } from './lockout.js';
import { decodeSessionCommand, encodeResponse0, encodeResponse1, Status } from './proto/session.js';
import { ProtobufError } from './proto/wire.js';
import { makeSrpCredentials, SRP_3072_SHA512, type SrpCredentials, SrpServer } from './srp.js';
import type { ProvisioningEvent } from './types.js';

/** ESP-IDF's default, and what its apps send unless told otherwise. */
export const SRP_USERNAME = 'wifiprov';
const MAX_USERNAME = 255;

export interface Security2Options {
  /** The label's verification code: the SRP password. */
  password: string;
  lockout: Lockout;
  now: () => number;
  /** A session unused this long is dropped; the app must establish a new one. */
  idleTimeoutMs: number;
  /** Between command 0 and command 1. */
  handshakeTimeoutMs: number;
  report: (event: ProvisioningEvent) => void;
  random?: (n: number) => Uint8Array;
}

type Slot =
  | { id: number; phase: 'fresh'; touched: number }
  | { id: number; phase: 'proving'; touched: number; since: number; srp: SrpServer; username: Uint8Array }
  | { id: number; phase: 'established'; touched: number; cipher: Sec2Cipher };

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
    this.#slots.set(id, { id, phase: 'fresh', touched: this.#options.now() });
  }

  closeSession(id: number): void {
    this.#slots.delete(id);
  }

  /** The transport keeps an established session when it has to forget others. */
  isEstablished(id: number): boolean {
    return this.#slots.get(id)?.phase === 'established';
  }

  /** The session's state, or why there is none. */
  #live(id: number): Slot {
    const slot = this.#slots.get(id);
    if (!slot) throw new ProtocommError('no_session', 'no such session');
    const now = this.#options.now();
    const expired =
      now - slot.touched > this.#options.idleTimeoutMs ||
      (slot.phase === 'proving' && now - slot.since > this.#options.handshakeTimeoutMs);
    if (expired) {
      this.#slots.delete(id);
      throw new ProtocommError('session_expired', 'session expired');
    }
    slot.touched = now;
    return slot;
  }

  /** The `prov-session` endpoint. A transport session whose secure state was dropped may start over. */
  handleSession(id: number, body: Uint8Array): Uint8Array {
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
    const locked = this.#options.lockout.remainingMs();
    if (locked > 0) {
      this.#options.report({ type: 'session_refused_locked', retryAfterMs: locked });
      this.#slots.set(id, { id, phase: 'fresh', touched: slot.touched });
      throw new ProtocommError('locked_out', 'too many wrong proofs', locked);
    }
    if (command.type === 'command0') return this.#command0(id, command.username, command.clientPubkey);
    return this.#command1(slot, command.clientProof);
  }

  #command0(id: number, username: Uint8Array, clientPubkey: Uint8Array): Uint8Array {
    // A command 0 in any phase restarts the handshake, as ESP-IDF does.
    this.newSession(id);
    if (username.length === 0 || username.length > MAX_USERNAME) {
      throw new ProtocommError('bad_request', 'username length');
    }
    this.#credentials ??= makeSrpCredentials(
      SRP_USERNAME,
      this.#options.password,
      SRP_3072_SHA512,
      this.#random,
    );
    const srp = SrpServer.start(SRP_3072_SHA512, this.#credentials, clientPubkey, this.#random);
    if (!srp) throw new ProtocommError('bad_public_key', 'client public key unusable');
    const now = this.#options.now();
    this.#slots.set(id, {
      id,
      phase: 'proving',
      touched: now,
      since: now,
      srp,
      username: Uint8Array.from(username),
    });
    return encodeResponse0(Status.Success, srp.B, this.#credentials.salt);
  }

  #command1(slot: Slot, clientProof: Uint8Array): Uint8Array {
    if (slot.phase !== 'proving') throw new ProtocommError('out_of_sequence', 'command 1 before command 0');
    const deviceProof = slot.srp.verify(slot.username, clientProof);
    if (!deviceProof) {
      this.#slots.set(slot.id, { id: slot.id, phase: 'fresh', touched: slot.touched });
      const failures = this.#options.lockout.failures + 1;
      const lockedForMs = this.#options.lockout.recordFailure();
      this.#options.report({ type: 'proof_failed', failures, lockedForMs });
      throw new ProtocommError('proof_failed', 'client proof does not match');
    }
    this.#options.lockout.recordSuccess();
    const cipher = new Sec2Cipher(slot.srp.sessionKey, this.#random(8));
    for (const other of this.#slots.values()) {
      if (other.phase === 'established') this.#slots.delete(other.id);
    }
    this.#slots.set(slot.id, { id: slot.id, phase: 'established', touched: slot.touched, cipher });
    this.#options.report({ type: 'session_established' });
    return encodeResponse1(Status.Success, deviceProof, cipher.deviceNonce);
  }

  #cipher(id: number): Sec2Cipher {
    const slot = this.#live(id);
    if (slot.phase !== 'established')
      throw new ProtocommError('no_session', 'secure session not established');
    if (!slot.cipher.usable) {
      this.#slots.delete(id);
      throw new ProtocommError('session_expired', 'nonce counter exhausted');
    }
    return slot.cipher;
  }

  /** A request that does not authenticate ends the session: its counter no longer matches the app's. */
  decrypt(id: number, body: Uint8Array): Uint8Array {
    const plaintext = this.#cipher(id).decrypt(body);
    if (!plaintext) {
      this.#slots.delete(id);
      throw new ProtocommError('decrypt_failed', 'payload does not authenticate');
    }
    return plaintext;
  }

  encrypt(id: number, plaintext: Uint8Array): Uint8Array {
    return this.#cipher(id).encrypt(plaintext);
  }
}
