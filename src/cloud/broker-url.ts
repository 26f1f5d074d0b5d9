import type { IClientOptions } from 'mqtt';

const SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'] as const;
type Scheme = (typeof SCHEMES)[number];

const isScheme = (value: string): value is Scheme => (SCHEMES as readonly string[]).includes(value);

/**
 * A broker URL as mqtt.connect's options. Given the URL itself, mqtt.js reads it with Node's legacy
 * url.parse(), for which Node 24 prints a deprecation warning (DEP0169) at every start; the WHATWG
 * parser reads it here instead, with the same result: scheme, host (an IPv6 address without its
 * brackets), port when the URL names one (mqtt.js supplies the scheme's default), the path for
 * WebSockets, and credentials written in the URL.
 */
export function brokerOptions(url: string): IClientOptions {
  const parsed = new URL(url);
  const protocol = parsed.protocol.replace(/:$/, '');
  if (!isScheme(protocol)) throw new Error(`broker URL: unsupported scheme "${protocol}"`);
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (hostname === '') throw new Error('broker URL: no host');
  return {
    protocol,
    hostname,
    host: hostname,
    ...(parsed.port !== '' ? { port: Number(parsed.port) } : {}),
    ...(protocol.startsWith('ws') ? { path: `${parsed.pathname}${parsed.search}` } : {}),
    ...(parsed.username !== '' ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password !== '' ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}
