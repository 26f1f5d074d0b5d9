/**
 * SOAP 1.2 for ONVIF: the envelope parser (hostile input: no DTD, no entities, bounded by the caller),
 * the reply and fault envelopes, and the interface a service implements (docs/onvif.md). Pure: no
 * sockets, no config, no logging.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface SoapCall {
  /** Local name of the Body's first element, e.g. 'GetProfiles'. */
  operation: string;
  /** Namespace URI of that element. */
  namespace: string;
  /** That element parsed by fast-xml-parser (removeNSPrefix: true, ignoreAttributes: false,
   *  attributeNamePrefix: '@_', parseTagValue: false), e.g. { ProfileToken: 'main' }. */
  body: Record<string, unknown>;
  /** URL path: '/onvif/device_service', '/onvif/events_service', '/onvif/subscription/7', ... */
  path: string;
  /** WS-Addressing headers when present (pull-point clients send them). */
  headers: { action?: string; to?: string; messageId?: string };
  /** The authenticated user (undefined for the operations allowed without auth). */
  user?: string;
  /** The host name the client reached us by (its Host header, checked), for the URLs put in replies. */
  host?: string;
}

export interface SoapReply {
  /** XML inside <s:Body>. Prefixes used must be declared in `namespaces` or be standard ones the
   *  envelope declares (s, tds, trt, tr2, tt, tev, wsnt, wsa, tns1, timg, ter, xsd, xsi). */
  body: string;
  /** XML inside <s:Header> (e.g. <wsa:Action>...). */
  header?: string;
  namespaces?: Record<string, string>;
  /** Runs once the reply has been sent (SystemReboot reboots after answering). */
  after?: () => void;
}

export class SoapFault extends Error {
  constructor(
    readonly code: 'Sender' | 'Receiver',
    readonly subcode: string,
    message: string,
  ) {
    super(message);
    this.name = 'SoapFault';
  }
}

/** The fault for an operation this service does not have (`what` names the service in the reason). */
export function notSupported(call: SoapCall, what?: string): SoapFault {
  const reason = what ? `is not ${what} operation` : 'is not supported';
  return new SoapFault('Sender', 'ter:ActionNotSupported', `${call.operation} ${reason}`);
}

/** Refuses a call whose body element is not in this service's namespace. */
export function expectNamespace(call: SoapCall, namespace: string, what: string): void {
  if (call.namespace !== namespace) throw notSupported(call, what);
}

export interface SoapService {
  /** Whether this service answers requests to this path. */
  handles(path: string): boolean;
  /** Operations that answer without authentication (GetSystemDateAndTime on the device service). */
  anonymous?: ReadonlySet<string>;
  handle(call: SoapCall): Promise<SoapReply>;
}

export const SOAP_ENV = 'http://www.w3.org/2003/05/soap-envelope';
const SOAP11_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';

/** The prefixes every reply envelope declares. */
export const NAMESPACES = {
  s: SOAP_ENV,
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tr2: 'http://www.onvif.org/ver20/media/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tns1: 'http://www.onvif.org/ver10/topics',
  timg: 'http://www.onvif.org/ver20/imaging/wsdl',
  ter: 'http://www.onvif.org/ver10/error',
  xsd: 'http://www.w3.org/2001/XMLSchema',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

/** The WS-Security UsernameToken of a request's header, as sent (checked by security.ts). */
export interface UsernameToken {
  username: string;
  password: string;
  /** The Password element's Type attribute (PasswordDigest or PasswordText). */
  passwordType: string;
  /** Base64, as sent. */
  nonce: string;
  created: string;
}

export interface ParsedEnvelope {
  operation: string;
  namespace: string;
  body: Record<string, unknown>;
  headers: SoapCall['headers'];
  /** Present when the header carries a wsse:Security element with a UsernameToken. */
  token?: UsernameToken;
}

/** Elements nested deeper than this are refused (a parser's stack is not an attacker's to fill). */
const MAX_DEPTH = 64;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  removeNSPrefix: false,
  // The five predefined entities and character references only: a DOCTYPE never gets here.
  processEntities: true,
  htmlEntities: false,
  trimValues: true,
});

/**
 * Parses a SOAP request. Throws a Sender SoapFault for anything that is not a well-formed SOAP
 * envelope with one operation in its Body. Any DOCTYPE or ENTITY declaration is refused before the
 * parser sees the text, so no entity is ever expanded or resolved (XXE, billion laughs).
 */
export function parseEnvelope(xml: string): ParsedEnvelope {
  if (/<!\s*(DOCTYPE|ENTITY)/i.test(xml)) {
    throw new SoapFault('Sender', 'ter:InvalidArgs', 'DTDs and entity declarations are not accepted');
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new SoapFault(
      'Sender',
      'ter:InvalidArgs',
      `malformed XML: ${valid.err.msg} (line ${valid.err.line})`,
    );
  }
  if (depth(xml) > MAX_DEPTH) throw new SoapFault('Sender', 'ter:InvalidArgs', 'XML nested too deeply');
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (err) {
    throw new SoapFault('Sender', 'ter:InvalidArgs', `malformed XML: ${(err as Error).message}`);
  }
  const root = firstElement(asRecord(doc));
  if (!root || localName(root.name) !== 'Envelope') {
    throw new SoapFault('Sender', 'ter:InvalidArgs', 'not a SOAP envelope');
  }
  const envelope = asRecord(root.value);
  const scope = declarations({}, envelope);
  const envNs = scope[prefixOf(root.name)];
  if (envNs !== SOAP_ENV && envNs !== SOAP11_ENV) {
    throw new SoapFault('Sender', 'ter:InvalidArgs', 'not a SOAP envelope');
  }
  const bodyEntry = child(envelope, 'Body');
  if (!bodyEntry) throw new SoapFault('Sender', 'ter:InvalidArgs', 'the envelope has no Body');
  const bodyScope = declarations(scope, asRecord(bodyEntry.value));
  const op = firstElement(asRecord(bodyEntry.value));
  if (!op) throw new SoapFault('Sender', 'ter:InvalidArgs', 'the Body names no operation');
  if (op.name.length > 128)
    throw new SoapFault('Sender', 'ter:InvalidArgs', 'the operation name is too long');
  const opValue = asRecord(op.value);
  const opScope = declarations(bodyScope, opValue);
  const headerEntry = child(envelope, 'Header');
  const header = headerEntry ? stripPrefixes(headerEntry.value) : undefined;
  const headerRecord = asRecord(header);
  const token = usernameToken(headerRecord);
  const headers: SoapCall['headers'] = {};
  const action = text(headerRecord.Action);
  const to = text(headerRecord.To);
  const messageId = text(headerRecord.MessageID);
  if (action !== undefined) headers.action = action;
  if (to !== undefined) headers.to = to;
  if (messageId !== undefined) headers.messageId = messageId;
  return {
    operation: localName(op.name),
    namespace: opScope[prefixOf(op.name)] ?? '',
    body: asRecord(stripPrefixes(opValue)),
    headers,
    ...(token ? { token } : {}),
  };
}

/** An element's text whether or not it carries attributes (then fast-xml-parser puts it in '#text'). */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return text(value[0]);
  if (value !== null && typeof value === 'object') {
    const inner = (value as Record<string, unknown>)['#text'];
    return inner === undefined ? '' : text(inner);
  }
  return undefined;
}

export function asRecord(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) return asRecord(value[0]);
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

/** Escapes text for an element's content or an attribute value. */
export function xml(value: string | number | boolean): string {
  return String(value).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The reply envelope around `reply`. */
export function envelope(reply: SoapReply): string {
  const namespaces = { ...NAMESPACES, ...reply.namespaces };
  const declared = Object.entries(namespaces)
    .map(([prefix, uri]) => ` xmlns:${prefix}="${xml(uri)}"`)
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope${declared}>` +
    (reply.header ? `<s:Header>${reply.header}</s:Header>` : '') +
    `<s:Body>${reply.body}</s:Body></s:Envelope>`
  );
}

/** A SOAP 1.2 fault envelope. */
export function faultEnvelope(fault: SoapFault): string {
  return envelope({
    body:
      `<s:Fault><s:Code><s:Value>s:${fault.code}</s:Value>` +
      `<s:Subcode><s:Value>${xml(fault.subcode)}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${xml(fault.message)}</s:Text></s:Reason></s:Fault>`,
  });
}

/** The HTTP status of a fault (SOAP 1.2 HTTP binding: Sender 400, Receiver 500). */
export function faultStatus(fault: SoapFault): number {
  return fault.code === 'Sender' ? 400 : 500;
}

function usernameToken(header: Record<string, unknown>): UsernameToken | undefined {
  const security = asRecord(header.Security);
  if (!('UsernameToken' in security)) return undefined;
  const token = asRecord(security.UsernameToken);
  const password = token.Password;
  return {
    username: text(token.Username) ?? '',
    password: text(password) ?? '',
    passwordType: text(asRecord(password)['@_Type']) ?? 'PasswordText',
    nonce: text(token.Nonce) ?? '',
    created: text(token.Created) ?? '',
  };
}

/** The greatest element depth, counted on the raw text (after validation, so tags are well formed). */
function depth(source: string): number {
  let current = 0;
  let max = 0;
  const tags = /<(\/?)[A-Za-z_][^>]*?(\/?)>/g;
  for (let m = tags.exec(source); m !== null; m = tags.exec(source)) {
    if (m[1] === '/') current -= 1;
    else if (m[2] !== '/') {
      current += 1;
      if (current > max) max = current;
    }
  }
  return max;
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

function prefixOf(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? '' : name.slice(0, colon);
}

function isElementKey(key: string): boolean {
  return !key.startsWith('@_') && key !== '#text' && !key.startsWith('?');
}

function firstElement(record: Record<string, unknown>): { name: string; value: unknown } | undefined {
  for (const [name, value] of Object.entries(record)) {
    if (isElementKey(name)) return { name, value: Array.isArray(value) ? value[0] : value };
  }
  return undefined;
}

function child(record: Record<string, unknown>, local: string): { name: string; value: unknown } | undefined {
  for (const [name, value] of Object.entries(record)) {
    if (isElementKey(name) && localName(name) === local) {
      return { name, value: Array.isArray(value) ? value[0] : value };
    }
  }
  return undefined;
}

/** The namespace declarations in scope inside an element ('' for the default namespace). */
function declarations(
  outer: Record<string, string>,
  element: Record<string, unknown>,
): Record<string, string> {
  const scope = { ...outer };
  for (const [key, value] of Object.entries(element)) {
    if (key === '@_xmlns' && typeof value === 'string') scope[''] = value;
    else if (key.startsWith('@_xmlns:') && typeof value === 'string') scope[key.slice(8)] = value;
  }
  return scope;
}

/** What removeNSPrefix would have given: local names only, namespace declarations dropped. */
function stripPrefixes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripPrefixes);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (key === '@_xmlns' || key.startsWith('@_xmlns:')) continue;
    const name = key.startsWith('@_') ? `@_${localName(key.slice(2))}` : localName(key);
    // An element named __proto__ would set the object's prototype.
    if (name === '__proto__' || name === '@___proto__') continue;
    out[name] = stripPrefixes(inner);
  }
  return out;
}
