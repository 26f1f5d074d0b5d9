import { createSocket, type Socket } from 'node:dgram';
import { createRequire } from 'node:module';
import { XMLParser } from 'fast-xml-parser';
import { WSD_GROUP } from '../../src/onvif/discovery-messages.js';

/** A WS-Discovery message as a test reads it: prefixes dropped, values as text. */
export interface Seen {
  action: string;
  messageId: string;
  relatesTo: string | undefined;
  endpoint: string | undefined;
  types: string | undefined;
  scopes: string[];
  xaddrs: string[];
  metadataVersion: string | undefined;
  from: { address: string; port: number };
  xml: string;
}

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false });

function read(xml: string, from: { address: string; port: number }): Seen {
  const doc = parser.parse(xml) as {
    Envelope: { Header: Record<string, string>; Body: Record<string, Record<string, unknown>> };
  };
  const { Header, Body } = doc.Envelope;
  const [bodyName, bodyValue] = Object.entries(Body)[0] ?? ['', {}];
  const inner =
    (bodyName === 'ProbeMatches' ? (bodyValue.ProbeMatch as Record<string, unknown>) : bodyValue) ?? {};
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const epr = inner.EndpointReference as { Address?: string } | undefined;
  return {
    action: Header.Action ?? '',
    messageId: Header.MessageID ?? '',
    relatesTo: text(Header.RelatesTo),
    endpoint: epr?.Address,
    types: text(inner.Types),
    scopes: (text(inner.Scopes) ?? '').split(/\s+/).filter(Boolean),
    xaddrs: (text(inner.XAddrs) ?? '').split(/\s+/).filter(Boolean),
    metadataVersion: text(inner.MetadataVersion),
    from,
    xml,
  };
}

/** A UDP socket that keeps every WS-Discovery message it receives and lets a test await the next one. */
export class Inbox {
  readonly messages: Seen[] = [];
  #waiters: { test: (m: Seen) => boolean; resolve: (m: Seen) => void }[] = [];
  #read = 0;

  private constructor(readonly socket: Socket) {
    socket.on('message', (data, from) => {
      const seen = read(data.toString('utf8'), from);
      this.messages.push(seen);
      for (const w of [...this.#waiters]) {
        if (!w.test(seen)) continue;
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(seen);
      }
    });
  }

  /** Bound to `address` (unicast replies), or to any address and joined to the group on 127.0.0.1. */
  static async open(options: { address?: string; multicast?: boolean; port?: number } = {}): Promise<Inbox> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    const address = options.multicast ? '0.0.0.0' : (options.address ?? '127.0.0.1');
    await new Promise<void>((resolve) => socket.bind(options.port ?? 0, address, resolve));
    if (options.multicast) socket.addMembership(WSD_GROUP, '127.0.0.1');
    return new Inbox(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** The next message (after those already taken by `next`) that passes `test`. */
  next(test: (m: Seen) => boolean = () => true): Promise<Seen> {
    for (; this.#read < this.messages.length; this.#read++) {
      const m = this.messages[this.#read];
      if (m && test(m)) {
        this.#read += 1;
        return Promise.resolve(m);
      }
    }
    return new Promise((resolve) =>
      this.#waiters.push({
        test,
        resolve: (m) => {
          this.#read = this.messages.indexOf(m) + 1;
          resolve(m);
        },
      }),
    );
  }

  send(data: string | Buffer, port: number, address = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(data, port, address, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** The npm `onvif` client's discovery (CommonJS; its bundled types are shadowed by test/onvif/onvif-lib.d.ts). */
interface OnvifClient {
  Discovery: {
    probe(
      options: { device?: string; timeout?: number; resolve?: boolean },
      callback: (err: Error | Error[] | null, found?: unknown[]) => void,
    ): void;
    on(event: 'error', listener: (err: unknown) => void): void;
    off(event: 'error', listener: (err: unknown) => void): void;
  };
}

interface RawMatch {
  probeMatches: { probeMatch: { endpointReference: { address: string }; XAddrs: string } };
}

/**
 * What the npm `onvif` client finds with `Discovery.probe` over `lo` (a multicast Probe to
 * 239.255.255.250:3702, answers collected until its timeout): endpoint and XAddrs of each device.
 */
export async function probeWithOnvifClient(
  timeoutMs = 3000,
): Promise<{ endpoint: string; xaddrs: string[] }[]> {
  const { Discovery } = createRequire(import.meta.url)('onvif') as OnvifClient;
  // It reports answers it cannot read as 'error' events; an unheard 'error' would throw.
  const ignore = () => {};
  Discovery.on('error', ignore);
  try {
    const found = await new Promise<unknown[]>((resolve, reject) =>
      Discovery.probe({ device: 'lo', timeout: timeoutMs, resolve: false }, (err, cams) =>
        err && !Array.isArray(err) ? reject(err) : resolve(cams ?? []),
      ),
    );
    return found.map((c) => {
      const match = (c as RawMatch).probeMatches.probeMatch;
      return { endpoint: match.endpointReference.address, xaddrs: match.XAddrs.split(' ') };
    });
  } finally {
    Discovery.off('error', ignore);
  }
}
