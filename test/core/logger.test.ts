import { describe, expect, it } from 'vitest';
import type { LogLevel } from '../../src/core/logger.js';
import { REDACTED, SecretValues } from '../../src/core/redact.js';
import { captureLog } from './fixtures.js';

const LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const PINO_LEVELS = [10, 20, 30, 40, 50, 60];

describe('createLogger', () => {
  it('never writes a registered secret, whatever the level or the place it is logged', () => {
    const SECRET = 'Wifi-Pa55-7f3a9c';
    const secrets = new SecretValues();
    secrets.add(SECRET);
    const capture = captureLog(secrets);
    const { log } = capture;

    for (const level of LEVELS) {
      log[level]({ ssid: 'Home', note: SECRET }, 'as an object field');
      log[level]({ err: new Error(`join failed with ${SECRET}`) }, 'inside an error message');
      log[level](new Error(`bare error carrying ${SECRET}`));
      log[level](`inside the message text: ${SECRET}`);
      log[level]('as a format argument: %s', SECRET);
      log[level]({ attempts: [['Home', SECRET], { tried: [SECRET] }] }, 'in a nested array');
    }

    expect(capture.lines).toHaveLength(LEVELS.length * 6);
    expect(new Set(capture.records().map((r) => r.level))).toEqual(new Set(PINO_LEVELS));
    for (const line of capture.lines) expect(line).not.toContain(SECRET);
    // Redaction replaced the value rather than dropping the line's content.
    expect(capture.lines.every((line) => line.includes(REDACTED))).toBe(true);
  });

  it('hides values under secret-named keys and URL credentials without registration', () => {
    const capture = captureLog();
    capture.log.info({ password: 'never-registered-pw', source: 'rtsp://admin:cam-pw-1@10.0.0.2/' }, 'login');
    const [record] = capture.records();
    expect(record).toMatchObject({
      msg: 'login',
      password: REDACTED,
      source: `rtsp://admin:${REDACTED}@10.0.0.2/`,
    });
    expect(capture.lines.join('')).not.toMatch(/never-registered-pw|cam-pw-1/);
  });

  it('writes Error fields as plain data, with type and message', () => {
    const capture = captureLog();
    capture.log.error({ err: new TypeError('bad frame') }, 'decode failed');
    expect(capture.records()[0]).toMatchObject({
      level: 50,
      msg: 'decode failed',
      err: { type: 'TypeError', message: 'bad frame' },
    });
  });

  it('honours the configured level', () => {
    const capture = captureLog();
    capture.log.level = 'warn';
    capture.log.info('dropped');
    capture.log.warn('kept');
    expect(capture.records().map((r) => r.msg)).toEqual(['kept']);
  });
});
