import { describe, expect, it } from 'vitest';
import { LogLimit } from '../../src/core/log-limit.js';
import { captureLog } from './fixtures.js';

describe('LogLimit', () => {
  it('writes one line per kind per interval and counts what it left out', () => {
    const captured = captureLog();
    let now = 0;
    const limit = new LogLimit(captured.log, 10_000, () => now);
    for (let i = 0; i < 100; i += 1)
      limit.info('proof_failed', { client: '10.0.0.9' }, 'softap: wrong proof');
    limit.warn('wrong_client', {}, 'softap: cookie from another client');
    now = 10_000;
    limit.info('proof_failed', { client: '10.0.0.9' }, 'softap: wrong proof');
    const lines = captured.records().filter((r) => typeof r.msg === 'string' && r.msg.startsWith('softap:'));
    expect(lines.map((r) => [r.msg, r.suppressed, r.level])).toEqual([
      ['softap: wrong proof', 0, 30],
      ['softap: cookie from another client', 0, 40],
      ['softap: wrong proof', 99, 30],
    ]);
  });
});
