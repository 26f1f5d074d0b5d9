import { createHash, timingSafeEqual } from 'node:crypto';
import { AgentError } from '../core/errors.js';
import type { Candidate } from './session.js';

/** Signaling messages of contract section 5, validated before anything acts on them. Pure. */
export interface Offer {
  sdp: string;
  token: string;
}

/** A viewer's candidate or close, with the token that proves it comes from the offer's sender. */
export interface ViewerMessage<T> {
  body: T;
  token: string;
}

const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TOKEN_BYTES = 4096;
/** A candidate line, its token and the JSON around them. */
export const MAX_CANDIDATE_MESSAGE_BYTES = 2048 + MAX_TOKEN_BYTES;
export const MAX_CLOSE_MESSAGE_BYTES = 1024 + MAX_TOKEN_BYTES;
/** The JSON around the SDP of an offer: the token and a few keys. */
export const OFFER_OVERHEAD_BYTES = 8192;

export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

function json(payload: Buffer, maxBytes: number): Record<string, unknown> {
  if (payload.length > maxBytes)
    throw new AgentError('payload_too_large', `message is larger than ${maxBytes} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new AgentError('bad_request', 'message is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AgentError('bad_request', 'message must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function tokenOf(body: Record<string, unknown>): string {
  const { token } = body;
  return typeof token === 'string' && token.length <= MAX_TOKEN_BYTES ? token : '';
}

/**
 * An offer. A wrong shape is `bad_request`; an SDP that cannot be one (not `v=0`, or larger than
 * `maxSdpBytes`) is `bad_offer`, the code werift's own refusals get too.
 */
export function parseOffer(payload: Buffer, maxSdpBytes: number): Offer {
  const body = json(payload, maxSdpBytes + OFFER_OVERHEAD_BYTES);
  const { sdp } = body;
  if (typeof sdp !== 'string') throw new AgentError('bad_request', 'sdp must be a string');
  if (!sdp.startsWith('v=0')) throw new AgentError('bad_offer', 'sdp is not an SDP offer');
  if (Buffer.byteLength(sdp) > maxSdpBytes)
    throw new AgentError('bad_offer', `sdp is larger than ${maxSdpBytes} bytes`);
  return { sdp, token: tokenOf(body) };
}

export function parseCandidate(payload: Buffer): ViewerMessage<Candidate> {
  const body = json(payload, MAX_CANDIDATE_MESSAGE_BYTES);
  const { candidate, sdpMid, sdpMLineIndex } = body;
  if (typeof candidate !== 'string' || candidate.length > 1024) {
    throw new AgentError('bad_request', 'candidate must be a string of at most 1024 characters');
  }
  if (sdpMid !== undefined && sdpMid !== null && (typeof sdpMid !== 'string' || sdpMid.length > 32)) {
    throw new AgentError('bad_request', 'sdpMid must be a short string');
  }
  if (
    sdpMLineIndex !== undefined &&
    sdpMLineIndex !== null &&
    (!Number.isInteger(sdpMLineIndex) || (sdpMLineIndex as number) < 0 || (sdpMLineIndex as number) > 16)
  ) {
    throw new AgentError('bad_request', 'sdpMLineIndex must be a small integer');
  }
  return {
    body: {
      candidate,
      sdpMid: (sdpMid as string | null | undefined) ?? null,
      sdpMLineIndex: (sdpMLineIndex as number | null | undefined) ?? null,
    },
    token: tokenOf(body),
  };
}

/** A viewer's close: any JSON object; only its `token` matters. */
export function parseClose(payload: Buffer): ViewerMessage<undefined> {
  return { body: undefined, token: tokenOf(json(payload, MAX_CLOSE_MESSAGE_BYTES)) };
}

/**
 * What a session keeps of its offer's token: a digest, compared in constant time, so the
 * token itself is not held for the session's life.
 */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function sameToken(digest: Buffer, token: string): boolean {
  return token.length > 0 && timingSafeEqual(digest, tokenDigest(token));
}
