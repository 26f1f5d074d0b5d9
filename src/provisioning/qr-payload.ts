/**
 * The Wi-Fi QR payload the phone shows to the camera (contract section 4):
 * `WIFI:T:WPA;S:<ssid>;P:<password>;BT:<bind token>;BR:<region>;;`, escaped as the Wi-Fi QR format
 * asks (a backslash before `\ ; , : "`). Without `BT` the camera joins the network and stays unbound.
 * Pure: no I/O.
 */
export interface WifiQr {
  security: 'WPA' | 'WEP' | 'nopass';
  ssid: string;
  password: string | undefined;
  hidden: boolean;
  bindToken: string | undefined;
  region: string | undefined;
}

export type QrError = 'not_wifi' | 'too_long' | 'malformed' | 'missing_ssid' | 'bad_field';

export class QrPayloadError extends Error {
  readonly code: QrError;

  constructor(code: QrError, message: string) {
    super(message);
    this.name = 'QrPayloadError';
    this.code = code;
  }
}

/** Longer than any sensible payload: SSID 32 bytes, WPA passphrase 63, a token of a few hundred. */
export const MAX_PAYLOAD = 1024;

export function parseWifiQr(text: string): WifiQr {
  if (text.length > MAX_PAYLOAD)
    throw new QrPayloadError('too_long', `payload longer than ${MAX_PAYLOAD} characters`);
  if (!text.startsWith('WIFI:')) throw new QrPayloadError('not_wifi', 'not a WIFI: code');
  const fields = splitFields(text.slice(5));
  const out: WifiQr = {
    security: 'WPA',
    ssid: '',
    password: undefined,
    hidden: false,
    bindToken: undefined,
    region: undefined,
  };
  const seen = new Set<string>();
  for (const [key, value] of fields) {
    if (seen.has(key)) throw new QrPayloadError('malformed', `field ${key} appears twice`);
    seen.add(key);
    switch (key) {
      case 'T':
        if (value !== 'WPA' && value !== 'WEP' && value !== 'nopass' && value !== '') {
          throw new QrPayloadError('bad_field', `unknown security type ${JSON.stringify(value)}`);
        }
        out.security = value === '' ? 'nopass' : value;
        break;
      case 'S':
        if (Buffer.byteLength(value) > 32) throw new QrPayloadError('bad_field', 'SSID longer than 32 bytes');
        out.ssid = value;
        break;
      case 'P':
        if (value.length > 64) throw new QrPayloadError('bad_field', 'password longer than 64 characters');
        out.password = value;
        break;
      case 'H':
        out.hidden = value === 'true';
        break;
      case 'BT':
        if (!/^[\x21-\x7e]{8,512}$/.test(value))
          throw new QrPayloadError('bad_field', 'bind token must be 8-512 printable characters');
        out.bindToken = value;
        break;
      case 'BR':
        if (!/^[a-z0-9-]{1,32}$/.test(value))
          throw new QrPayloadError('bad_field', 'region must be a short lower-case name');
        out.region = value;
        break;
      default:
        // Other standard fields (e.g. E:, A:, PH2:) are ignored, as phones do.
        break;
    }
  }
  if (out.ssid === '') throw new QrPayloadError('missing_ssid', 'no SSID');
  if (out.security === 'nopass') out.password = undefined;
  else if (out.password === undefined)
    throw new QrPayloadError('bad_field', 'a secured network needs a password');
  if ((out.bindToken === undefined) !== (out.region === undefined) && out.region !== undefined) {
    throw new QrPayloadError('bad_field', 'a region without a bind token');
  }
  return out;
}

export function escapeField(value: string): string {
  return value.replace(/([\\;,:"])/g, '\\$1');
}

export function formatWifiQr(qr: Omit<WifiQr, 'hidden'> & { hidden?: boolean }): string {
  const parts = [`T:${qr.security}`, `S:${escapeField(qr.ssid)}`];
  if (qr.password !== undefined && qr.security !== 'nopass') parts.push(`P:${escapeField(qr.password)}`);
  if (qr.hidden) parts.push('H:true');
  if (qr.bindToken !== undefined) parts.push(`BT:${escapeField(qr.bindToken)}`);
  if (qr.region !== undefined) parts.push(`BR:${escapeField(qr.region)}`);
  return `WIFI:${parts.join(';')};;`;
}

/** Splits `K:V;K:V;;` honouring backslash escapes; the payload must end with the empty field. */
function splitFields(body: string): [string, string][] {
  const fields: [string, string][] = [];
  let current = '';
  let escaped = false;
  let ended = false;
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i] as string;
    if (ended) throw new QrPayloadError('malformed', 'text after the closing ;;');
    if (escaped) {
      current += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ';') {
      if (current === '') {
        ended = true;
        continue;
      }
      fields.push(field(current));
      current = '';
    } else {
      current += c;
    }
  }
  if (!ended || escaped || current !== '') throw new QrPayloadError('malformed', 'payload must end with ;;');
  return fields;
}

function field(raw: string): [string, string] {
  // The key never contains escapes; the first unescaped ':' was kept as ':' in raw, so split on it.
  const colon = raw.indexOf(':');
  if (colon <= 0) throw new QrPayloadError('malformed', 'a field without a key');
  return [raw.slice(0, colon), raw.slice(colon + 1)];
}
