import { randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { FollowsSettings } from '../app/settings-reactions.js';
import { errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import { LogLimit } from '../core/log-limit.js';
import type { Logger } from '../core/logger.js';
import { HandshakeLimiter } from '../provisioning/softap/rate-limit.js';
import type { DiscoveryConfig } from './discovery-config.js';
import {
  type Advertisement,
  byeMessage,
  endpointFor,
  helloMessage,
  parseDatagram,
  probeMatches,
  probeMatchesMessage,
  WSD_GROUP,
  WSD_PORT,
} from './discovery-messages.js';

export interface OnvifDiscoveryDeps {
  config: DiscoveryConfig;
  /** The endpoint reference is a UUID derived from it, the same in every run. */
  deviceId: string;
  /**
   * Whether the camera is discoverable now: `onvif.enabled` and `onvif.discovery` on, the camera set
   * up and its ONVIF server serving. Asked at start and on every settings change.
   */
  active: () => boolean;
  /** The device's scopes (name, hardware, location, profiles), as GetScopes says them. */
  scopes: () => readonly string[];
  /** The ONVIF HTTP server's port while it serves (the XAddrs name it). */
  onvifPort: () => number | undefined;
  /** The IPv4 addresses to join the group on and advertise: every interface on a camera, 127.0.0.1 in the simulator. */
  addresses: () => readonly string[];
  /** Datagrams from other sources are ignored (the simulator answers only its own host). */
  acceptFrom?: (address: string) => boolean;
  /** The one host XAddrs name instead of each joined address (a camera behind NAT or a name). */
  advertisedHost?: string | undefined;
  /** Where Hello and Bye go: the group on 3702 unless a test listens elsewhere. */
  announcePort?: number;
  /** The random wait before a Hello or a ProbeMatch, 0..max ms; tests make it 0. */
  delayMs?: (max: number) => number;
  now?: () => number;
  log: Logger;
}

/** The service URL a client reaches on `address`. */
export function deviceServiceUrl(address: string, port: number): string {
  return `http://${address}:${port}/onvif/device_service`;
}

/** The IPv4 addresses of the machine's interfaces other than loopback. */
export function interfaceAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  return out;
}

/**
 * Where discovery listens for the ONVIF server's `host`: every interface when it serves on all of
 * them (a camera), else that one address, answering only its own host when it is a loopback one (the
 * simulator on 127.0.0.1).
 */
export function discoveryScope(host: string): Pick<OnvifDiscoveryDeps, 'addresses' | 'acceptFrom'> {
  if (host === '0.0.0.0' || host === '::' || host === '') return { addresses: interfaceAddresses };
  const loopback = host.startsWith('127.');
  return {
    addresses: () => [host],
    acceptFrom: loopback ? (address) => address.startsWith('127.') : undefined,
  };
}

/** Most answers waiting for their random delay at once; the rate limit keeps it far lower anyway. */
const MAX_PENDING = 64;

/**
 * WS-Discovery for ONVIF (docs/onvif.md, "Discovery"): Hello when it becomes discoverable, Bye when it
 * stops, and a unicast ProbeMatches to each Probe for an NVT or a device, multicast or unicast. Every
 * datagram is hostile: size-bounded, never DOCTYPE'd, parsed strictly; answers are rate-limited per
 * sender and in all, so a Probe with a spoofed source cannot turn the camera into a reflector.
 */
export class OnvifDiscovery implements Module, FollowsSettings {
  readonly name = 'onvif-discovery';
  readonly #deps: OnvifDiscoveryDeps;
  readonly #log: Logger;
  readonly #limit: LogLimit;
  readonly #endpoint: string;
  readonly #now: () => number;
  #socket: Socket | undefined;
  #limiter: HandshakeLimiter;
  #joined = new Set<string>();
  #pending = new Set<NodeJS.Timeout>();
  #refresh: NodeJS.Timeout | undefined;
  #instanceId: number;
  #messageNumber = 0;
  #metadataVersion = 1;
  /** What the last Hello said (scopes and XAddrs): a change is announced with a new MetadataVersion. */
  #announced = '';
  #queue: Promise<void> = Promise.resolve();

  constructor(deps: OnvifDiscoveryDeps) {
    this.#deps = deps;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#limit = new LogLimit(deps.log, 10_000, this.#now);
    this.#endpoint = endpointFor(deps.deviceId);
    this.#instanceId = Math.floor(this.#now() / 1000);
    this.#limiter = this.#newLimiter();
  }

  /** The `urn:uuid:` endpoint reference (GetEndpointReference should say the same). */
  get endpoint(): string {
    return this.#endpoint;
  }

  /** The UDP port while discoverable. */
  get port(): number | undefined {
    return this.#socket?.address().port;
  }

  async start(): Promise<void> {
    this.#instanceId = Math.max(this.#instanceId, Math.floor(this.#now() / 1000));
    await this.#serial(() => this.#reconcile());
  }

  async stop(): Promise<void> {
    await this.#serial(() => this.#close());
  }

  async apply(): Promise<void> {
    await this.#serial(() => this.#reconcile());
  }

  /** One change at a time; a failure is logged and the next change still runs. */
  #serial(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.catch((err: unknown) => this.#log.warn({ err }, 'ws-discovery change failed'));
    return run;
  }

  async #reconcile(): Promise<void> {
    const want = this.#deps.active() && this.#deps.onvifPort() !== undefined;
    if (want && !this.#socket) await this.#open();
    else if (!want && this.#socket) await this.#close();
    else if (want) this.#refreshAddresses();
  }

  async #open(): Promise<void> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    socket.on('error', (err) => this.#limit.warn('socket', { err }, 'ws-discovery socket error'));
    socket.on('message', (data, from) => this.#onDatagram(data, from));
    const bound = await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.#deps.config.port, '0.0.0.0', () => {
        socket.off('error', reject);
        resolve();
      });
    }).then(
      () => true,
      (err: unknown) => {
        // A port held by another program without SO_REUSEADDR leaves the camera undiscoverable (an
        // NVR can still be given the address), not without streams; the next settings change retries.
        this.#log.error(
          { err: errorMessage(err), port: this.#deps.config.port },
          'ws-discovery could not listen',
        );
        socket.close();
        return false;
      },
    );
    if (!bound) return;
    socket.setMulticastLoopback(true);
    socket.setMulticastTTL(1);
    this.#socket = socket;
    this.#joined = new Set();
    this.#limiter = this.#newLimiter();
    this.#announced = '';
    this.#refreshAddresses();
    const refresh = setInterval(() => void this.apply(), this.#deps.config.refreshSeconds * 1000);
    refresh.unref();
    this.#refresh = refresh;
    this.#log.info({ port: this.port, addresses: [...this.#joined] }, 'ws-discovery on');
  }

  async #close(): Promise<void> {
    const socket = this.#socket;
    if (!socket) return;
    clearInterval(this.#refresh);
    for (const timer of this.#pending) clearTimeout(timer);
    this.#pending.clear();
    await this.#announce(byeMessage(`urn:uuid:${randomUUID()}`, this.#endpoint, this.#sequence())).catch(
      (err: unknown) => this.#log.warn({ err }, 'ws-discovery Bye not sent'),
    );
    this.#socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.#log.info('ws-discovery off');
  }

  /** Joins the group on new addresses and leaves it on gone ones; a change of what we say is a new Hello. */
  #refreshAddresses(): void {
    const socket = this.#socket;
    if (!socket) return;
    const now = new Set(this.#deps.addresses());
    for (const address of now) {
      if (this.#joined.has(address)) continue;
      try {
        socket.addMembership(WSD_GROUP, address);
        this.#joined.add(address);
      } catch (err) {
        this.#limit.warn('join', { err, address }, 'ws-discovery could not join the multicast group');
      }
    }
    for (const address of [...this.#joined]) {
      if (now.has(address)) continue;
      this.#joined.delete(address);
      try {
        socket.dropMembership(WSD_GROUP, address);
      } catch {
        // The interface is gone, and its membership with it.
      }
    }
    const ad = this.#advertisement();
    const said = JSON.stringify([ad.scopes, ad.xaddrs]);
    if (said === this.#announced || ad.xaddrs.length === 0) return;
    if (this.#announced !== '') this.#metadataVersion += 1;
    this.#announced = said;
    this.#later(() => {
      const hello = helloMessage(`urn:uuid:${randomUUID()}`, this.#advertisement(), this.#sequence());
      this.#announce(hello).catch((err: unknown) =>
        this.#limit.warn('hello', { err }, 'ws-discovery Hello not sent'),
      );
    });
  }

  #advertisement(): Advertisement {
    const port = this.#deps.onvifPort();
    return {
      endpoint: this.#endpoint,
      scopes: this.#deps.scopes(),
      xaddrs:
        port === undefined || this.#joined.size === 0
          ? []
          : this.#deps.advertisedHost
            ? [deviceServiceUrl(this.#deps.advertisedHost, port)]
            : [...this.#joined].map((a) => deviceServiceUrl(a, port)),
      metadataVersion: this.#metadataVersion,
    };
  }

  #sequence() {
    this.#messageNumber += 1;
    return { instanceId: this.#instanceId, messageNumber: this.#messageNumber };
  }

  /** A Hello or a Bye, to the group on every joined interface, repeated as SOAP-over-UDP asks. */
  async #announce(message: string): Promise<void> {
    const socket = this.#socket;
    if (!socket) return;
    const port = this.#deps.announcePort ?? WSD_PORT;
    const data = Buffer.from(message);
    for (let i = 0; i <= this.#deps.config.multicastRepeat; i++) {
      for (const address of this.#joined) {
        socket.setMulticastInterface(address);
        await new Promise<void>((resolve, reject) =>
          socket.send(data, port, WSD_GROUP, (err) => (err ? reject(err) : resolve())),
        );
      }
    }
  }

  #onDatagram(data: Buffer, from: RemoteInfo): void {
    if (this.#deps.acceptFrom && !this.#deps.acceptFrom(from.address)) return;
    const parsed = parseDatagram(data, this.#deps.config.maxDatagramBytes);
    if (parsed.kind === 'drop') {
      this.#limit.warn(
        `drop-${parsed.reason}`,
        { from: from.address, bytes: data.length, reason: parsed.reason },
        'ws-discovery datagram dropped',
      );
      return;
    }
    if (parsed.kind !== 'probe' || !probeMatches(parsed.probe, this.#deps.scopes())) return;
    const ad = this.#advertisement();
    if (ad.xaddrs.length === 0) return;
    const allowed = this.#limiter.take(from.address);
    if (!allowed.allowed || this.#pending.size >= MAX_PENDING) {
      this.#limit.warn('rate', { from: from.address }, 'ws-discovery answers rate-limited');
      return;
    }
    const relatesTo = parsed.probe.messageId;
    this.#later(() => {
      const socket = this.#socket;
      if (!socket) return;
      const reply = probeMatchesMessage(
        `urn:uuid:${randomUUID()}`,
        relatesTo,
        this.#advertisement(),
        this.#sequence(),
      );
      socket.send(reply, from.port, from.address, (err) => {
        if (err) this.#limit.warn('send', { err, to: from.address }, 'ws-discovery ProbeMatches not sent');
      });
    });
  }

  /** Runs `task` after the random APP_MAX_DELAY wait, unless stopped first. */
  #later(task: () => void): void {
    const max = this.#deps.config.maxDelayMs;
    const ms = this.#deps.delayMs ? this.#deps.delayMs(max) : Math.floor(Math.random() * (max + 1));
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      task();
    }, ms);
    this.#pending.add(timer);
  }

  #newLimiter(): HandshakeLimiter {
    const { answersPerSecond, answersPerSecondPerSender } = this.#deps.config;
    return new HandshakeLimiter(
      {
        perClient: {
          burst: Math.max(5, answersPerSecondPerSender),
          perMinute: answersPerSecondPerSender * 60,
        },
        global: { burst: Math.max(20, answersPerSecond), perMinute: answersPerSecond * 60 },
      },
      this.#now,
    );
  }
}

/** The WS-Discovery module (docs/onvif.md): built by the ONVIF wiring, started after the ONVIF server. */
export function createOnvifDiscovery(deps: OnvifDiscoveryDeps): OnvifDiscovery {
  return new OnvifDiscovery({ ...deps, log: deps.log.child({ module: 'ws-discovery' }) });
}
