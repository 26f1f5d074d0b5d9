import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PASSWORD_DIGEST, passwordDigest, UsernameTokenVerifier } from '../../src/onvif/security.js';
import { parseEnvelope, SoapFault } from '../../src/onvif/soap.js';
import { securityHeader, soapEnvelope } from '../helpers/onvif-soap.js';

const credentials = { username: 'admin', password: 'ABC123' };
const T0 = Date.parse('2026-12-06T04:00:00Z');

/** A token as the server's parser reads it from a request signed by the tests' own client. */
function token(created: Date, nonce = Buffer.from(`n-${Math.random()}`), password = credentials.password) {
  const parsed = parseEnvelope(
    soapEnvelope(
      '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>',
      securityHeader({ ...credentials, password }, { created, nonce }),
    ),
  );
  if (!parsed.token) throw new Error('no token parsed');
  return parsed.token;
}

describe('WS-Security UsernameToken', () => {
  it('checks the digest as the spec computes it (an example worked by hand)', () => {
    // base64(sha1("nonce" + "2026-12-06T04:00:00Z" + "ABC123")), computed outside the code under test.
    const nonce = Buffer.from('nonce');
    expect(passwordDigest(nonce, '2026-12-06T04:00:00Z', 'ABC123')).toBe(
      Buffer.from(
        sha1(Buffer.concat([nonce, Buffer.from('2026-12-06T04:00:00Z'), Buffer.from('ABC123')])),
      ).toString('base64'),
    );
    const verifier = new UsernameTokenVerifier({ maxSkewMs: 300_000, now: () => T0 });
    const good = token(new Date(T0));
    expect(good.passwordType).toBe(PASSWORD_DIGEST);
    expect(verifier.verify(good, credentials)).toEqual({ ok: true });
    expect(verifier.verify(token(new Date(T0), undefined, 'wrong'), credentials)).toEqual({
      ok: false,
      reason: 'invalid',
    });
  });

  it('refuses a replayed nonce and a Created outside the skew', () => {
    const verifier = new UsernameTokenVerifier({ maxSkewMs: 300_000, now: () => T0 });
    const once = token(new Date(T0 - 1000));
    expect(verifier.verify(once, credentials).ok).toBe(true);
    expect(verifier.verify(once, credentials)).toEqual({ ok: false, reason: 'replay' });
    expect(verifier.verify(token(new Date(T0 - 301_000)), credentials)).toEqual({
      ok: false,
      reason: 'skew',
    });
    expect(verifier.verify(token(new Date(T0 + 301_000)), credentials)).toEqual({
      ok: false,
      reason: 'skew',
    });
  });

  it('keeps the nonce cache bounded, refusing tokens older than the ones it had to forget', () => {
    let now = T0;
    const verifier = new UsernameTokenVerifier({ maxSkewMs: 300_000, maxNonces: 8, now: () => now });
    const tokens = Array.from({ length: 12 }, (_, i) => token(new Date(T0 + i)));
    for (const t of tokens) expect(verifier.verify(t, credentials).ok).toBe(true);
    expect(verifier.size).toBe(8);
    // The first four were forgotten: replaying them is still refused (their Created is at or below the floor).
    for (const t of tokens.slice(0, 4))
      expect(verifier.verify(t, credentials)).toEqual({ ok: false, reason: 'replay' });
    for (const t of tokens.slice(4))
      expect(verifier.verify(t, credentials)).toEqual({ ok: false, reason: 'replay' });
    // Once their Created falls out of the window, they are swept (and refused as skewed).
    now = T0 + 400_000;
    expect(verifier.verify(token(new Date(now)), credentials).ok).toBe(true);
    expect(verifier.size).toBe(1);
  });

  it('does not let tokens with a wrong password fill the cache', () => {
    const verifier = new UsernameTokenVerifier({ maxSkewMs: 300_000, maxNonces: 4, now: () => T0 });
    for (let i = 0; i < 20; i += 1) verifier.verify(token(new Date(T0), undefined, 'wrong'), credentials);
    expect(verifier.size).toBe(0);
  });
});

describe('SOAP envelope parsing', () => {
  it('resolves the operation namespace from a default or prefixed declaration', () => {
    const prefixed = parseEnvelope(
      '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:m="http://www.onvif.org/ver10/media/wsdl">' +
        '<e:Body><m:GetStreamUri><m:ProfileToken>sub</m:ProfileToken></m:GetStreamUri></e:Body></e:Envelope>',
    );
    expect(prefixed).toMatchObject({
      operation: 'GetStreamUri',
      namespace: 'http://www.onvif.org/ver10/media/wsdl',
      body: { ProfileToken: 'sub' },
    });
  });

  it('refuses what is not one SOAP operation, and never pollutes a prototype', () => {
    const bad = [
      '<Envelope><Body><X/></Body></Envelope>',
      '<s:Envelope xmlns:s="urn:other"><s:Body><X/></s:Body></s:Envelope>',
      soapEnvelope(''),
      `${'<a>'.repeat(100)}${'</a>'.repeat(100)}`,
    ];
    for (const xml of bad) expect(() => parseEnvelope(xml), xml).toThrow(SoapFault);
    for (const inner of [
      '<__proto__><polluted>yes</polluted></__proto__>',
      '<p:__proto__ xmlns:p="urn:p"><polluted>yes</polluted></p:__proto__>',
    ]) {
      try {
        const parsed = parseEnvelope(soapEnvelope(`<Op xmlns="urn:x">${inner}</Op>`));
        expect(Object.getPrototypeOf(parsed.body)).toBe(Object.prototype);
      } catch (err) {
        expect(err).toBeInstanceOf(SoapFault);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });
});

function sha1(data: Buffer): Buffer {
  return createHash('sha1').update(data).digest();
}
