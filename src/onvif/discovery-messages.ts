import { createHash } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * WS-Discovery (2005/04, as ONVIF uses it) over SOAP-over-UDP: reading a Probe safely and writing
 * Hello, Bye and ProbeMatches. Protocol only: no sockets, no logging, no settings.
 */

export const WSD_NS = 'http://schemas.xmlsoap.org/ws/2005/04/discovery';
export const WSA_NS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const DN_NS = 'http://www.onvif.org/ver10/network/wsdl';
export const TDS_NS = 'http://www.onvif.org/ver10/device/wsdl';
/** The multicast group and port of WS-Discovery on IPv4. */
export const WSD_GROUP = '239.255.255.250';
export const WSD_PORT = 3702;
/** What a Hello and a Bye are addressed to (the "well-known discovery URI"). */
const WSD_TO = 'urn:schemas-xmlsoap-org:ws:2005:04:discovery';
const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';
const RFC3986 = `${WSD_NS}/rfc3986`;
const STRCMP0 = `${WSD_NS}/strcmp0`;

/** The types this device is: an ONVIF network video transmitter with a device service. */
export const OUR_TYPES: readonly QName[] = [
  { ns: DN_NS, local: 'NetworkVideoTransmitter' },
  { ns: TDS_NS, local: 'Device' },
];

export interface QName {
  /** Undefined when the sender used a prefix it never declared. */
  ns: string | undefined;
  local: string;
}

export interface Probe {
  messageId: string;
  types: QName[];
  scopes: string[];
  /** The MatchBy URI for the scopes (RFC 3986 prefix matching by default). */
  matchBy: string;
}

/** Why a datagram was dropped: a fixed set, so it can key a rate-limited log line. */
export type DropReason = 'too-large' | 'doctype' | 'malformed' | 'not-soap' | 'no-message-id';

export type Parsed =
  | { kind: 'probe'; probe: Probe }
  | { kind: 'other' }
  | { kind: 'drop'; reason: DropReason };

/** Longest MessageID, Types or Scopes value we accept (a real one is well under 100 characters). */
const MAX_VALUE = 1024;
const MAX_LIST = 32;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  removeNSPrefix: false,
  trimValues: true,
});

/**
 * Reads one datagram. Anything carrying a DOCTYPE or ENTITY is refused before parsing (no entity is
 * ever expanded), as is anything over `maxBytes` or not well-formed; messages other than a Probe are
 * `other` (our own Hello looping back, other devices' Hellos, Resolve).
 */
export function parseDatagram(data: Buffer, maxBytes: number): Parsed {
  if (data.length > maxBytes) return { kind: 'drop', reason: 'too-large' };
  const text = data.toString('utf8');
  if (/<!(DOCTYPE|ENTITY)/i.test(text)) return { kind: 'drop', reason: 'doctype' };
  if (XMLValidator.validate(text) !== true) return { kind: 'drop', reason: 'malformed' };
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch {
    return { kind: 'drop', reason: 'malformed' };
  }
  const root = elements({ node: doc, scope: new Map() }).find((e) => e.local === 'Envelope');
  if (!root || root.ns !== SOAP12_NS) return { kind: 'drop', reason: 'not-soap' };
  const body = child(root, SOAP12_NS, 'Body');
  const probe = body && child(body, WSD_NS, 'Probe');
  if (!probe) return { kind: 'other' };
  const header = child(root, SOAP12_NS, 'Header');
  const messageId = header && text1(child(header, WSA_NS, 'MessageID'));
  if (!messageId || messageId.length > MAX_VALUE || !/^[!-~]+$/.test(messageId))
    return { kind: 'drop', reason: 'no-message-id' };
  const typesEl = child(probe, WSD_NS, 'Types');
  const scopesEl = child(probe, WSD_NS, 'Scopes');
  const types = list(text1(typesEl)).map((q) => resolveQName(q, typesEl?.scope ?? probe.scope));
  const scopes = list(text1(scopesEl));
  const matchBy = attribute(scopesEl, 'MatchBy') ?? RFC3986;
  return { kind: 'probe', probe: { messageId, types, scopes, matchBy } };
}

/**
 * Whether we answer a Probe: every type it names must be one of ours (a Probe for printers gets no
 * answer), and every scope it names must match one of ours. A prefix the sender forgot to declare is
 * matched by its local name alone, as some NVRs send `tds:Device` undeclared.
 */
export function probeMatches(probe: Probe, ourScopes: readonly string[]): boolean {
  const typeOk = (t: QName) =>
    OUR_TYPES.some((o) => o.local === t.local && (t.ns === undefined || t.ns === o.ns));
  if (!probe.types.every(typeOk)) return false;
  if (probe.scopes.length === 0) return true;
  if (probe.matchBy === STRCMP0) return probe.scopes.every((s) => ourScopes.includes(s));
  if (probe.matchBy !== RFC3986) return false;
  return probe.scopes.every((s) => ourScopes.some((o) => scopeMatchesRfc3986(s, o)));
}

/** RFC 3986 matching of WS-Discovery: scheme and authority case-insensitive, path by whole segments. */
export function scopeMatchesRfc3986(probe: string, ours: string): boolean {
  const split = (uri: string) => {
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(uri);
    if (!m) return undefined;
    const segments = (m[3] ?? '').split('/').filter((s) => s !== '' && s !== '.');
    return { origin: `${m[1]}://${m[2]}`.toLowerCase(), segments };
  };
  const p = split(probe);
  const o = split(ours);
  if (!p || !o) return probe === ours;
  if (p.origin !== o.origin || p.segments.length > o.segments.length) return false;
  return p.segments.every((segment, i) => segment === o.segments[i]);
}

/** What a device says about itself in Hello and ProbeMatches. */
export interface Advertisement {
  /** `urn:uuid:...`, the same for the life of the device. */
  endpoint: string;
  scopes: readonly string[];
  xaddrs: readonly string[];
  metadataVersion: number;
}

export interface Sequence {
  /** Grows from one run to the next (the start time in seconds). */
  instanceId: number;
  messageNumber: number;
}

export function helloMessage(messageId: string, ad: Advertisement, seq: Sequence): string {
  return envelope(header(`${WSD_NS}/Hello`, messageId, WSD_TO, seq), `<d:Hello>${advertised(ad)}</d:Hello>`);
}

export function byeMessage(messageId: string, endpoint: string, seq: Sequence): string {
  return envelope(header(`${WSD_NS}/Bye`, messageId, WSD_TO, seq), `<d:Bye>${epr(endpoint)}</d:Bye>`);
}

export function probeMatchesMessage(
  messageId: string,
  relatesTo: string,
  ad: Advertisement,
  seq: Sequence,
): string {
  const head = header(`${WSD_NS}/ProbeMatches`, messageId, ANONYMOUS, seq, relatesTo);
  return envelope(head, `<d:ProbeMatches><d:ProbeMatch>${advertised(ad)}</d:ProbeMatch></d:ProbeMatches>`);
}

/** A Probe as an NVR sends it (benchmarks and tests send it too). */
export function probeMessage(messageId: string, types = 'dn:NetworkVideoTransmitter', scopes = ''): string {
  const head = `<a:MessageID>${esc(messageId)}</a:MessageID><a:To>${WSD_TO}</a:To><a:Action>${WSD_NS}/Probe</a:Action>`;
  const scopesEl = scopes ? `<d:Scopes>${esc(scopes)}</d:Scopes>` : '';
  const body = `<d:Probe><d:Types>${esc(types)}</d:Types>${scopesEl}</d:Probe>`;
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${NAMESPACES}><s:Header>${head}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

/** A stable `urn:uuid:` for a device id: a name-based (version 5, SHA-1) UUID, so every run says the same. */
export function endpointFor(deviceId: string): string {
  const hash = createHash('sha1').update(`ipcam-agent:onvif:${deviceId}`).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const NAMESPACES = [
  `xmlns:s="${SOAP12_NS}"`,
  `xmlns:a="${WSA_NS}"`,
  `xmlns:d="${WSD_NS}"`,
  `xmlns:dn="${DN_NS}"`,
  `xmlns:tds="${TDS_NS}"`,
].join(' ');

function envelope(head: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${NAMESPACES}><s:Header>${head}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

function header(action: string, messageId: string, to: string, seq: Sequence, relatesTo?: string): string {
  return (
    `<a:MessageID>${esc(messageId)}</a:MessageID>` +
    (relatesTo === undefined ? '' : `<a:RelatesTo>${esc(relatesTo)}</a:RelatesTo>`) +
    `<a:To>${to}</a:To><a:Action>${action}</a:Action>` +
    `<d:AppSequence InstanceId="${seq.instanceId}" MessageNumber="${seq.messageNumber}"/>`
  );
}

function epr(endpoint: string): string {
  return `<a:EndpointReference><a:Address>${esc(endpoint)}</a:Address></a:EndpointReference>`;
}

function advertised(ad: Advertisement): string {
  return (
    epr(ad.endpoint) +
    '<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>' +
    `<d:Scopes>${esc(ad.scopes.join(' '))}</d:Scopes>` +
    `<d:XAddrs>${esc(ad.xaddrs.join(' '))}</d:XAddrs>` +
    `<d:MetadataVersion>${ad.metadataVersion}</d:MetadataVersion>`
  );
}

function esc(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---------------------------------------------------------------------------------------------------
// A namespace-aware walk over fast-xml-parser's output (which keeps prefixes as written).

interface Element {
  ns: string | undefined;
  local: string;
  node: unknown;
  /** Prefix ('' for the default namespace) to namespace, as declared on this element and above. */
  scope: Map<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The child elements of a parsed node, each with its namespace resolved. */
function elements(parent: { node: unknown; scope: Map<string, string> }): Element[] {
  if (!isRecord(parent.node)) return [];
  const out: Element[] = [];
  for (const [name, value] of Object.entries(parent.node)) {
    if (name.startsWith('@_') || name === '#text' || name.startsWith('?')) continue;
    for (const node of Array.isArray(value) ? value : [value]) {
      const scope = new Map(parent.scope);
      if (isRecord(node)) {
        for (const [key, v] of Object.entries(node)) {
          if (typeof v !== 'string') continue;
          if (key === '@_xmlns') scope.set('', v);
          else if (key.startsWith('@_xmlns:')) scope.set(key.slice('@_xmlns:'.length), v);
        }
      }
      const colon = name.indexOf(':');
      const prefix = colon < 0 ? '' : name.slice(0, colon);
      out.push({ ns: scope.get(prefix), local: colon < 0 ? name : name.slice(colon + 1), node, scope });
    }
  }
  return out;
}

function child(parent: Element, ns: string, local: string): Element | undefined {
  return elements(parent).find((e) => e.ns === ns && e.local === local);
}

function text1(el: Element | undefined): string | undefined {
  if (!el) return undefined;
  if (typeof el.node === 'string') return el.node.trim();
  if (isRecord(el.node)) {
    const text = el.node['#text'];
    return typeof text === 'string' ? text.trim() : '';
  }
  return undefined;
}

function attribute(el: Element | undefined, name: string): string | undefined {
  if (!el || !isRecord(el.node)) return undefined;
  const value = el.node[`@_${name}`];
  return typeof value === 'string' ? value.trim() : undefined;
}

/** A whitespace-separated list, bounded: a value too long or too many items counts as one that matches nothing. */
function list(text: string | undefined): string[] {
  if (!text) return [];
  const items = text.split(/\s+/).filter(Boolean);
  if (items.length > MAX_LIST || items.some((i) => i.length > MAX_VALUE)) return ['\u0000invalid'];
  return items;
}

function resolveQName(qname: string, scope: Map<string, string>): QName {
  const colon = qname.indexOf(':');
  if (colon < 0) return { ns: scope.get(''), local: qname };
  return { ns: scope.get(qname.slice(0, colon)), local: qname.slice(colon + 1) };
}
