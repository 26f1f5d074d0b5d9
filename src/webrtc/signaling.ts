import { AgentError } from '../core/errors.js';
import type { Candidate } from './session.js';

/** Signaling messages of contract section 5, validated before anything acts on them. Pure. */
export interface Offer {
  sdp: string;
  token: string;
}

const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_CANDIDATE_BYTES = 2048;

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

export function parseOffer(payload: Buffer, maxSdpBytes: number): Offer {
  const body = json(payload, maxSdpBytes + 8192);
  const { sdp, token } = body;
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0'))
    throw new AgentError('bad_request', 'sdp must be an SDP offer');
  if (Buffer.byteLength(sdp) > maxSdpBytes) throw new AgentError('payload_too_large', 'sdp is too large');
  return { sdp, token: typeof token === 'string' ? token : '' };
}

export function parseCandidate(payload: Buffer): Candidate {
  const body = json(payload, MAX_CANDIDATE_BYTES);
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
    candidate,
    sdpMid: (sdpMid as string | null | undefined) ?? null,
    sdpMLineIndex: (sdpMLineIndex as number | null | undefined) ?? null,
  };
}
