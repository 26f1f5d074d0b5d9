import { describe, expect, it } from 'vitest';
import {
  endpointFor,
  type Parsed,
  parseDatagram,
  probeMatches,
  scopeMatchesRfc3986,
} from '../../src/onvif/discovery-messages.js';

const SCOPES = ['onvif://www.onvif.org/Profile/Streaming', 'onvif://www.onvif.org/name/Front%20door'];

/** A Probe as various clients write it: where they declare their prefixes differs. */
function envelope(probe: string, declarations = ''): Buffer {
  return Buffer.from(
    `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ${declarations}>` +
      `<s:Header><a:MessageID>urn:uuid:7</a:MessageID></s:Header><s:Body>${probe}</s:Body></s:Envelope>`,
  );
}

function answered(parsed: Parsed): boolean {
  return parsed.kind === 'probe' && probeMatches(parsed.probe, SCOPES);
}

describe('WS-Discovery messages', () => {
  it.each([
    [
      'prefixes on the Envelope (the npm onvif client)',
      envelope(
        '<d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe>',
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"',
      ),
      true,
    ],
    [
      'the type prefix declared on Types (ONVIF Device Manager)',
      envelope(
        '<Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Types xmlns:tds="http://www.onvif.org/ver10/device/wsdl">tds:Device</Types></Probe>',
      ),
      true,
    ],
    [
      'an undeclared prefix, matched by local name',
      envelope(
        '<Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Types>tds:Device</Types></Probe>',
      ),
      true,
    ],
    [
      'a default-namespace type',
      envelope(
        '<Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Types xmlns="http://www.onvif.org/ver10/network/wsdl">NetworkVideoTransmitter</Types></Probe>',
      ),
      true,
    ],
    [
      'a declared prefix of another namespace',
      envelope(
        '<Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Types xmlns:x="urn:x">x:Device</Types></Probe>',
      ),
      false,
    ],
    [
      'Probe in another namespace (WS-Discovery 1.1)',
      envelope(
        '<Probe xmlns="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"><Types>tds:Device</Types></Probe>',
      ),
      false,
    ],
    [
      'an unknown MatchBy',
      envelope(
        '<Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Scopes MatchBy="urn:ldap">onvif://www.onvif.org/Profile</Scopes></Probe>',
      ),
      false,
    ],
    [
      'strcmp0 with an exact scope',
      envelope(
        '<Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Scopes MatchBy="http://schemas.xmlsoap.org/ws/2005/04/discovery/strcmp0">onvif://www.onvif.org/Profile/Streaming</Scopes></Probe>',
      ),
      true,
    ],
    [
      'strcmp0 with a prefix only',
      envelope(
        '<Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Scopes MatchBy="http://schemas.xmlsoap.org/ws/2005/04/discovery/strcmp0">onvif://www.onvif.org/Profile</Scopes></Probe>',
      ),
      false,
    ],
  ])('%s', (_name, datagram, expected) => {
    expect(answered(parseDatagram(datagram, 8192))).toBe(expected);
  });

  it('gives a SOAP 1.1 envelope and other bodies no answer', () => {
    const soap11 = Buffer.from(
      '<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"/></Body></Envelope>',
    );
    expect(parseDatagram(soap11, 8192)).toEqual({ kind: 'drop', reason: 'not-soap' });
    const hello = envelope('<Hello xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"/>');
    expect(parseDatagram(hello, 8192)).toEqual({ kind: 'other' });
  });

  it.each([
    ['onvif://www.onvif.org/Profile', true],
    ['onvif://www.onvif.org/Profile/Streaming', true],
    ['onvif://www.onvif.org/Profile/Streaming/', true],
    ['ONVIF://www.ONVIF.org/Profile', true],
    ['onvif://www.onvif.org/profile', false],
    ['onvif://www.onvif.org/Profile/Stream', false],
    ['onvif://www.onvif.org/Profile/Streaming/More', false],
    ['onvif://other.org/Profile', false],
  ])('RFC 3986 scope %s against .../Profile/Streaming: %s', (probe, expected) => {
    expect(scopeMatchesRfc3986(probe, 'onvif://www.onvif.org/Profile/Streaming')).toBe(expected);
  });

  it('derives one stable endpoint per device id, and different ones for ids with a common start', () => {
    expect(endpointFor('IPCAM-0000000000000001')).toBe(endpointFor('IPCAM-0000000000000001'));
    expect(endpointFor('IPCAM-0000000000000001')).not.toBe(endpointFor('IPCAM-0000000000000002'));
  });
});
