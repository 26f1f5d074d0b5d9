import { createHash, randomBytes } from 'node:crypto';
import type { RtspCredentials } from './rtsp-digest.js';

/**
 * A client's side of ONVIF SOAP for the tests, written from the specs and independent of the server's
 * code: WS-Security UsernameToken with PasswordDigest = base64(sha1(nonce + created + password)).
 */
export interface TokenOptions {
  /** Default: now. */
  created?: Date;
  /** Default: 16 random bytes. */
  nonce?: Buffer;
  /** Default: PasswordDigest. */
  passwordType?: 'PasswordDigest' | 'PasswordText';
}

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const TOKEN_PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';

export function securityHeader(credentials: RtspCredentials, options: TokenOptions = {}): string {
  const created = (options.created ?? new Date()).toISOString();
  const nonce = options.nonce ?? randomBytes(16);
  const type = options.passwordType ?? 'PasswordDigest';
  const password =
    type === 'PasswordDigest'
      ? createHash('sha1')
          .update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(credentials.password)]))
          .digest('base64')
      : credentials.password;
  return (
    `<wsse:Security s:mustUnderstand="1" xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}"><wsse:UsernameToken>` +
    `<wsse:Username>${credentials.username}</wsse:Username>` +
    `<wsse:Password Type="${TOKEN_PROFILE}#${type}">${password}</wsse:Password>` +
    `<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

export function soapEnvelope(body: string, header = ''): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema">' +
    `<s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}

export interface SoapResponse {
  status: number;
  text: string;
  headers: Headers;
}

export async function postSoap(
  url: string,
  xml: string,
  headers: Record<string, string> = {},
): Promise<SoapResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/soap+xml; charset=utf-8', ...headers },
    body: xml,
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** The fault's subcode value (e.g. `ter:NotAuthorized`), or undefined when the reply is no fault. */
export function faultSubcode(text: string): string | undefined {
  return /<s:Subcode><s:Value>([^<]+)<\/s:Value>/.exec(text)?.[1];
}

export const DEVICE_NS = 'http://www.onvif.org/ver10/device/wsdl';
export const MEDIA_NS = 'http://www.onvif.org/ver10/media/wsdl';
