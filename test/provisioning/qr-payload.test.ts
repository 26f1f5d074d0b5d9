import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatWifiQr, parseWifiQr, QrPayloadError } from '../../src/provisioning/qr-payload.js';

describe('Wi-Fi QR payload', () => {
  it('reads the contract example with its bind token and region', () => {
    expect(parseWifiQr('WIFI:T:WPA;S:Home Net;P:s3cret!pass;BT:bt-0123456789abcdef;BR:eu;;')).toEqual({
      security: 'WPA',
      ssid: 'Home Net',
      password: 's3cret!pass',
      hidden: false,
      bindToken: 'bt-0123456789abcdef',
      region: 'eu',
    });
  });

  it('undoes the escapes of the Wi-Fi QR format', () => {
    const qr = parseWifiQr('WIFI:S:My\\;Net\\:5G;T:WPA;P:pa\\\\ss\\,wo\\"rd;;');
    expect(qr.ssid).toBe('My;Net:5G');
    expect(qr.password).toBe('pa\\ss,wo"rd');
  });

  it('accepts a plain code without a bind token (local-only use) and open networks', () => {
    expect(parseWifiQr('WIFI:T:WPA;S:Cafe;P:latte123;;').bindToken).toBeUndefined();
    expect(parseWifiQr('WIFI:T:nopass;S:Guest;;')).toMatchObject({ security: 'nopass', password: undefined });
  });

  const bad: [string, string][] = [
    ['https://example.com', 'not_wifi'],
    [`WIFI:T:WPA;S:x;P:${'a'.repeat(2000)};;`, 'too_long'],
    ['WIFI:T:WPA;S:Home;P:secret', 'malformed'],
    ['WIFI:T:WPA;S:Home;P:secret;;extra', 'malformed'],
    ['WIFI:T:WPA;P:secret;;', 'missing_ssid'],
    ['WIFI:T:WPA;S:Home;;', 'bad_field'],
    ['WIFI:T:WPA;S:Home;P:x;BT:short;;', 'bad_field'],
    ['WIFI:T:WPA;S:Home;P:secret123;BR:eu;;', 'bad_field'],
    ['WIFI:T:WPA;S:Home;S:Other;P:secret123;;', 'malformed'],
    [`WIFI:T:WPA;S:${'é'.repeat(17)};P:secret123;;`, 'bad_field'],
  ];
  for (const [text, code] of bad) {
    it(`refuses ${JSON.stringify(text.slice(0, 40))} with ${code}`, () => {
      expect(() => parseWifiQr(text)).toThrow(expect.objectContaining({ code }));
    });
  }

  it('round-trips any SSID, password and token through format and parse', () => {
    const printable = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 32 });
    fc.assert(
      fc.property(
        printable,
        fc.string({ unit: 'grapheme-ascii', minLength: 8, maxLength: 63 }),
        fc.stringMatching(/^[\x21-\x7e]{8,64}$/),
        fc.constantFrom('eu', 'us-1', 'cn'),
        (ssid, password, bindToken, region) => {
          const qr = { security: 'WPA' as const, ssid, password, bindToken, region, hidden: false };
          expect(parseWifiQr(formatWifiQr(qr))).toEqual(qr);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but a coded payload error, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ maxLength: 300 }).map((s) => `WIFI:${s}`),
        ),
        (text) => {
          try {
            parseWifiQr(text);
          } catch (err) {
            expect(err).toBeInstanceOf(QrPayloadError);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});
