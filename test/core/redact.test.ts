import { describe, expect, it } from 'vitest';
import { AgentError } from '../../src/core/errors.js';
import { isSecretKey, REDACTED, redactString, redactValue, SecretValues } from '../../src/core/redact.js';

const PEM = [
  '-----BEGIN EC PRIVATE KEY-----',
  'MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oAOo0b0u7TgaoAoGCCqGSM49',
  'AwEHoUQDQgAE9v7Rc3Ybx2sBvd8wcEVtE2Qw4y0O8vYvS0mP2m9f2k1d8vS0R9Qw',
  '-----END EC PRIVATE KEY-----',
].join('\n');

describe('redactString', () => {
  it('hides the password of credentials embedded in URLs and keeps the rest', () => {
    const out = redactString('opening rtsp://admin:secret@192.168.1.20:554/stream1 now');
    expect(out).not.toContain('secret');
    expect(out).toBe(`opening rtsp://admin:${REDACTED}@192.168.1.20:554/stream1 now`);
    expect(redactString('mqtts://dev:tok3n@broker.example/ and https://u:p4ss@x.example')).toBe(
      `mqtts://dev:${REDACTED}@broker.example/ and https://u:${REDACTED}@x.example`,
    );
  });

  it('hides name=value secrets and leaves other parameters alone', () => {
    const out = redactString('join ssid=Home password=hunter22&channel=6 token=abc.def psk=wpa2pass');
    expect(out).toBe(`join ssid=Home password=${REDACTED}&channel=6 token=${REDACTED} psk=${REDACTED}`);
  });

  it('hides PEM private key blocks but not certificates', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----';
    const out = redactString(`key:\n${PEM}\ncert:\n${cert}`);
    expect(out).not.toContain('MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oAOo0b0u7TgaoAoGCCqGSM49');
    expect(out).not.toContain('PRIVATE KEY');
    expect(out).toContain(REDACTED);
    expect(out).toContain(cert);
  });

  it('hides prefixed names, hyphenated keys and passwords that contain @', () => {
    expect(
      redactString('access_token=abc123 wifi_password=hunter22 client_secret=s3 apiKey=zzz passphrase=qq'),
    ).toBe(
      `access_token=${REDACTED} wifi_password=${REDACTED} client_secret=${REDACTED} apiKey=${REDACTED} passphrase=${REDACTED}`,
    );
    expect(redactString('rtsp://admin:p@ss@host/main')).toBe(`rtsp://admin:${REDACTED}@host/main`);
    expect(redactValue({ 'x-api-key': 'k1', 'private-key': 'k2' })).toEqual({
      'x-api-key': REDACTED,
      'private-key': REDACTED,
    });
  });

  it('hides a known secret used as an object key, and a longer secret that contains a shorter one', () => {
    const known = new SecretValues();
    known.add('abcd');
    known.add('abcdef-long');
    expect(JSON.stringify(redactValue({ map: { 'abcdef-long': 1 } }, known))).not.toContain('ef-long');
    expect(redactString('x abcdef-long y', known)).toBe(`x ${REDACTED} y`);
  });

  it('leaves text without secrets unchanged', () => {
    const text = 'motion detected in zone 2 at rtsp://192.168.1.20/stream1 (score 0.82)';
    expect(redactString(text)).toBe(text);
  });

  it('also scrubs the registered secret values when given them', () => {
    const known = new SecretValues();
    known.add('Tr0ub4dor&3');
    expect(redactString('wifi joined with Tr0ub4dor&3 ok', known)).toBe(`wifi joined with ${REDACTED} ok`);
  });
});

describe('redactValue', () => {
  it('hides values under secret-looking keys at any depth', () => {
    const input = {
      password: 'p1',
      token: 't1',
      wifiPsk: 'w1',
      clientKey: 'c1',
      privateKey: 'k1',
      authorization: 'Bearer abc',
      nested: { apiKey: 'a1', list: [{ secret: 's1' }, { passphrase: 'pp' }] },
    };
    expect(redactValue(input)).toEqual({
      password: REDACTED,
      token: REDACTED,
      wifiPsk: REDACTED,
      clientKey: REDACTED,
      privateKey: REDACTED,
      authorization: REDACTED,
      nested: { apiKey: REDACTED, list: [{ secret: REDACTED }, { passphrase: REDACTED }] },
    });
  });

  it('keeps values under keys that only look similar: keyId, key, rejected', () => {
    const input = { keyId: 'kid-7', key: 'motion', rejected: ['volume'], keyboard: 'us' };
    expect(redactValue(input)).toEqual(input);
    expect(isSecretKey('keyId')).toBe(false);
    expect(isSecretKey('key')).toBe(false);
    expect(isSecretKey('rejected')).toBe(false);
    expect(isSecretKey('Authorization')).toBe(true);
  });

  it('does not mutate its input and keeps scalars, null and undefined', () => {
    const input = { password: 'p1', count: 3, ok: true, none: null, missing: undefined, token: null };
    const out = redactValue(input);
    expect(input.password).toBe('p1');
    expect(out).toEqual({
      password: REDACTED,
      count: 3,
      ok: true,
      none: null,
      missing: undefined,
      token: null,
    });
  });

  it('scrubs strings inside objects and arrays', () => {
    const out = redactValue({ url: 'rtsp://admin:secret@cam/', args: ['-i', 'rtsp://admin:secret@cam/'] });
    expect(JSON.stringify(out)).not.toContain('secret');
  });

  it('turns Errors into plain objects with scrubbed message, stack, code and cause', () => {
    const cause = new Error('dial rtsp://admin:secret@cam/ failed');
    const err = new AgentError('not_connected', 'login with password=secret refused', { cause });
    const out = redactValue(err) as Record<string, unknown>;

    expect(out).not.toBeInstanceOf(Error);
    expect(out).toMatchObject({
      type: 'AgentError',
      code: 'not_connected',
      message: `login with password=${REDACTED} refused`,
      cause: { type: 'Error', message: `dial rtsp://admin:${REDACTED}@cam/ failed` },
    });
    expect(typeof out.stack).toBe('string');
    expect(JSON.stringify(out)).not.toContain('secret');
  });

  it('replaces binary buffers with their size', () => {
    expect(redactValue({ frame: Buffer.from('raw-bytes') })).toEqual({ frame: '[9 bytes]' });
  });

  it('stops at a depth limit instead of recursing forever on cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(JSON.stringify(redactValue(cyclic))).toContain('[depth]');
  });
});

describe('SecretValues', () => {
  it('scrubs every occurrence of registered values inside arbitrary strings', () => {
    const secrets = new SecretValues();
    secrets.add('correct-horse');
    secrets.add('b4tt3ry-st4ple');
    expect(secrets.scrub('a correct-horse, b4tt3ry-st4ple and correct-horse again')).toBe(
      `a ${REDACTED}, ${REDACTED} and ${REDACTED} again`,
    );
    expect(redactValue({ note: 'psk is correct-horse' }, secrets)).toEqual({ note: `psk is ${REDACTED}` });
  });

  it('ignores values shorter than 4 characters and forgets everything on clear()', () => {
    const secrets = new SecretValues();
    secrets.add('abc');
    secrets.add(undefined);
    secrets.add('s3cr3t-value');
    expect(secrets.scrub('abc s3cr3t-value')).toBe(`abc ${REDACTED}`);
    secrets.clear();
    expect(secrets.scrub('abc s3cr3t-value')).toBe('abc s3cr3t-value');
  });
});
