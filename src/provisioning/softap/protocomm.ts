/**
 * Protocomm's request routing, without the transport: `proto-ver` in the clear, `prov-session` to the
 * handshake, every other endpoint decrypted before its handler and its reply encrypted after.
 */
import { ProtocommError } from './errors.js';
import { ProtobufError } from './proto/wire.js';
import type { Security2 } from './security2.js';

/** Takes a decrypted request, returns the reply to encrypt; a ProtobufError means malformed input. */
export type EndpointHandler = (request: Uint8Array) => Promise<Uint8Array>;

export const VERSION_ENDPOINT = 'proto-ver';
export const SESSION_ENDPOINT = 'prov-session';

export class Protocomm {
  readonly #version: Uint8Array;
  readonly #security: Security2;
  readonly #endpoints: ReadonlyMap<string, EndpointHandler>;

  constructor(version: string, security: Security2, endpoints: ReadonlyMap<string, EndpointHandler>) {
    this.#version = Buffer.from(version, 'utf8');
    this.#security = security;
    this.#endpoints = endpoints;
  }

  has(endpoint: string): boolean {
    return endpoint === VERSION_ENDPOINT || endpoint === SESSION_ENDPOINT || this.#endpoints.has(endpoint);
  }

  openSession(id: number): void {
    this.#security.newSession(id);
  }

  closeSession(id: number): void {
    this.#security.closeSession(id);
  }

  isEstablished(id: number): boolean {
    return this.#security.isEstablished(id);
  }

  clearLockouts(): void {
    this.#security.clearLockouts();
  }

  /** The reply body, or a ProtocommError saying how to refuse. `client` is the peer's address. */
  async handle(endpoint: string, sessionId: number, body: Uint8Array, client: string): Promise<Uint8Array> {
    if (endpoint === VERSION_ENDPOINT) return this.#version;
    if (endpoint === SESSION_ENDPOINT) return this.#security.handleSession(sessionId, body, client);
    const handler = this.#endpoints.get(endpoint);
    if (!handler) throw new ProtocommError('unknown_endpoint', `no endpoint ${endpoint}`);
    const request = this.#security.decrypt(sessionId, body);
    let reply: Uint8Array;
    try {
      reply = await handler(request);
    } catch (err) {
      if (err instanceof ProtocommError) throw err;
      if (err instanceof ProtobufError) throw new ProtocommError('bad_request', err.message);
      throw new ProtocommError('internal', err instanceof Error ? err.message : String(err));
    }
    return this.#security.encrypt(sessionId, reply);
  }
}
