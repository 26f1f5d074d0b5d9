import { AgentError } from '../core/errors.js';

/** Deeper documents are refused before JSON.parse sees them: no request of ours nests past a few levels. */
export const MAX_JSON_DEPTH = 32;

/** Keys that reach an object's prototype when a parsed document is later merged or spread. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The one parser for JSON that arrives over MQTT. Every payload from the network is hostile until it
 * passes here: size first (before any work), then nesting depth (a linear scan, so a million `[` costs
 * a millisecond, not a stack overflow), then JSON.parse with a reviver that refuses prototype keys and
 * numbers JSON.parse could only turn into Infinity or lose digits of.
 */
export function parseJsonPayload(payload: Buffer, maxBytes: number): unknown {
  if (payload.length > maxBytes) {
    throw new AgentError('payload_too_large', `payload is ${payload.length} bytes, the limit is ${maxBytes}`);
  }
  const text = payload.toString('utf8');
  const depth = nestingDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw new AgentError('bad_request', `JSON nested ${depth} deep, the limit is ${MAX_JSON_DEPTH}`);
  }
  try {
    return JSON.parse(text, revive);
  } catch (err) {
    if (err instanceof AgentError) throw err;
    throw new AgentError('bad_request', 'payload is not valid JSON');
  }
}

/** A JSON object body; an empty payload means an empty object (a command without parameters). */
export function parseJsonObject(payload: Buffer, maxBytes: number): Record<string, unknown> {
  if (payload.length === 0) return {};
  const body = parseJsonPayload(payload, maxBytes);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AgentError('bad_request', 'payload must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function revive(this: unknown, key: string, value: unknown): unknown {
  if (FORBIDDEN_KEYS.has(key))
    throw new AgentError('bad_request', `key ${JSON.stringify(key)} is not allowed`);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new AgentError('bad_request', 'number out of range');
  }
  return value;
}

/** The deepest `[`/`{` nesting outside strings; stops counting once past the limit. */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > max) max = depth;
      if (max > MAX_JSON_DEPTH) return max;
    } else if (c === 0x5d || c === 0x7d) {
      depth -= 1;
    }
  }
  return max;
}
