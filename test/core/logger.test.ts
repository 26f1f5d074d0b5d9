import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prettyLine } from '../../src/core/log-pretty.js';
import { createLogger, type LogLevel } from '../../src/core/logger.js';
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

describe('createLogger, pretty format', () => {
  function prettyLog(secrets = new SecretValues(), color = false) {
    const lines: string[] = [];
    const log = createLogger({
      level: 'trace',
      secrets,
      format: 'pretty',
      color,
      destination: { write: (line: string) => void lines.push(line) },
    });
    return { log, lines };
  }

  it('never writes a registered secret either, and every line starts with time and level', () => {
    const SECRET = 'Wifi-Pa55-7f3a9c';
    const secrets = new SecretValues();
    secrets.add(SECRET);
    const { log, lines } = prettyLog(secrets);
    const child = log.child({ module: 'wifi' });
    for (const level of LEVELS) {
      child[level]({ ssid: 'Home', note: SECRET }, 'as an object field');
      child[level]({ err: new Error(`join failed with ${SECRET}`) }, 'inside an error message');
      child[level](`inside the message text: ${SECRET}`);
      child[level]('as a format argument: %s', SECRET);
      child[level](
        { password: 'never-registered-pw', url: 'rtsp://admin:cam-pw-1@10.0.0.2/' },
        'by key and URL',
      );
    }
    expect(lines).toHaveLength(LEVELS.length * 5);
    const text = lines.join('');
    expect(text).not.toMatch(/Wifi-Pa55-7f3a9c|never-registered-pw|cam-pw-1/);
    expect(text.split(REDACTED).length - 1).toBeGreaterThanOrEqual(LEVELS.length * 5);
    for (const line of lines) {
      expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) wifi /);
    }
  });

  it('writes time, level, module, message and the other fields as key=value', () => {
    const at = new Date(2026, 11, 5, 21, 52, 24, 123).getTime();
    const line = prettyLine(
      JSON.stringify({
        level: 40,
        time: at,
        module: 'capture',
        process: 'ffmpeg-capture',
        msg: 'child process exited',
        code: null,
        signal: 'SIGKILL',
        restartInMs: 400,
        argv: 'ffmpeg -i a b',
      }),
      { color: false },
    );
    expect(line).toBe(
      '21:52:24.123 WARN  capture child process exited  process=ffmpeg-capture code=null signal=SIGKILL restartInMs=400 argv="ffmpeg -i a b"\n',
    );
  });

  it('shows an error by type and message, with its stack at level error', () => {
    const { log, lines } = prettyLog();
    log.warn({ err: new TypeError('bad frame') }, 'decode failed');
    log.error({ err: new RangeError('out of range') }, 'gave up');
    expect(lines[0]).toMatch(/ decode failed {2}err="TypeError: bad frame"\n$/);
    expect(lines[1]?.split('\n')[0]).toMatch(/ gave up {2}err="RangeError: out of range"$/);
    expect(lines[1]?.split('\n')[1]).toMatch(/^ {4}at /);
  });

  it('cannot be made to drive the terminal: control characters are shown as escapes', () => {
    const { log, lines } = prettyLog(new SecretValues(), true);
    log.info(
      { module: 'rtsp', url: 'rtsp://x/\u001b[2J\u009b31m' },
      'client asked for \u001b]0;pwned\u0007 this',
    );
    const [line = ''] = lines;
    // The colours the formatter adds itself (ESC [ digits m) are the only control characters left.
    const esc = String.fromCharCode(0x1b);
    const ownColours = line.split(esc).slice(1);
    expect(ownColours.length).toBeGreaterThan(0);
    for (const after of ownColours) expect(after).toMatch(/^\[[0-9;]*m/);
    const controls = [...line.slice(0, -1)].filter((c) => {
      const code = c.charCodeAt(0);
      return (code < 0x20 && code !== 0x1b) || (code >= 0x7f && code <= 0x9f);
    });
    expect(controls).toEqual([]);
    expect(line).toContain('client asked for \\x1b]0;pwned\\x07 this');
    expect(line).toContain('\\x9b31m');
  });

  it('formats any line without throwing and never lets a control character through (seeded)', () => {
    let tried = 0;
    const anyLine = fc.oneof(
      fc.json(),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc
        .record(
          {
            level: fc.oneof(fc.constantFrom(10, 20, 30, 40, 50, 60), fc.jsonValue()),
            time: fc.oneof(fc.integer(), fc.jsonValue()),
            module: fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue()),
            msg: fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue()),
            err: fc.jsonValue(),
            other: fc.jsonValue(),
          },
          { requiredKeys: [] },
        )
        .map((record) => JSON.stringify(record)),
    );
    fc.assert(
      fc.property(anyLine, (line) => {
        tried += 1;
        const out = prettyLine(line, { color: false });
        expect(out.endsWith('\n')).toBe(true);
        const controls = [...out].filter((c) => {
          const code = c.charCodeAt(0);
          return (code < 0x20 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f);
        });
        expect(controls).toEqual([]);
      }),
      { numRuns: 3000, seed: 20261205 },
    );
    console.log(`pretty log lines: ${tried} inputs tried, crashes: 0`);
  });

  it('passes a line that is not JSON through, control characters escaped', () => {
    expect(prettyLine('plain text', { color: false })).toBe('plain text\n');
    expect(prettyLine('plain\u001b[2J text\n', { color: false })).toBe('plain\\x1b[2J text\n');
  });
});
