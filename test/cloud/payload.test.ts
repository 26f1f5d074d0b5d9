import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, parseJsonObject, parseJsonPayload } from '../../src/cloud/payload.js';
import { isSafeResponseTopic } from '../../src/cloud/topics.js';

const parse = (text: string) => parseJsonPayload(Buffer.from(text), 1024 * 1024);
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'accepted';
};

describe('parseJsonPayload: the one parser for JSON from MQTT', () => {
  it('accepts ordinary documents', () => {
    expect(parse('{"version":3,"state":{"name":"Porch","zones":[[0.1,0.2]]}}')).toEqual({
      version: 3,
      state: { name: 'Porch', zones: [[0.1, 0.2]] },
    });
    expect(parseJsonObject(Buffer.alloc(0), 10)).toEqual({});
  });

  it('refuses by size before parsing', () => {
    expect(code(() => parseJsonPayload(Buffer.alloc(2000, 0x20), 1000))).toBe('payload_too_large');
  });

  it('refuses nesting past the limit, in arrays and objects, but not brackets inside strings', () => {
    const ok = MAX_JSON_DEPTH;
    expect(code(() => parse(`${'['.repeat(ok)}${']'.repeat(ok)}`))).toBe('accepted');
    expect(code(() => parse(`${'['.repeat(ok + 1)}${']'.repeat(ok + 1)}`))).toBe('bad_request');
    expect(code(() => parse(`${'{"a":'.repeat(ok + 1)}1${'}'.repeat(ok + 1)}`))).toBe('bad_request');
    expect(code(() => parse('[200000 deep]'.replace('200000 deep', '['.repeat(200000))))).toBe('bad_request');
    expect(code(() => parse(JSON.stringify({ s: '['.repeat(100) + '\\"{'.repeat(50) })))).toBe('accepted');
  });

  it('refuses prototype keys anywhere, so a later merge cannot reach Object.prototype', () => {
    for (const text of [
      '{"__proto__":{"polluted":true}}',
      '{"a":{"b":[{"__proto__":{}}]}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"x":{"prototype":1}}',
    ]) {
      expect(code(() => parse(text))).toBe('bad_request');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses numbers JSON cannot hold and text that is not JSON', () => {
    expect(code(() => parse('{"version":1e400}'))).toBe('bad_request');
    expect(code(() => parse('[-1e999]'))).toBe('bad_request');
    expect(code(() => parse('{"version":'))).toBe('bad_request');
    expect(code(() => parseJsonObject(Buffer.from('[1,2]'), 100))).toBe('bad_request');
    expect(code(() => parseJsonObject(Buffer.from('null'), 100))).toBe('bad_request');
  });
});

describe('isSafeResponseTopic', () => {
  it('allows plain topics outside cam/v1/ and refuses the device tree, wildcards and system topics', () => {
    expect(isSafeResponseTopic('app/replies/42')).toBe(true);
    expect(isSafeResponseTopic('cloud/cam-responses')).toBe(true);
    for (const topic of [
      'cam/v1/SERIAL/evt/alarm',
      'cam/v1/OTHER/cmd/reboot',
      'cam/v1',
      'replies/#',
      'replies/+/x',
      '$SYS/broker',
      'a\u0000b',
      '',
      'x'.repeat(300),
    ]) {
      expect(isSafeResponseTopic(topic), topic).toBe(false);
    }
  });
});
