import { randomBytes } from 'node:crypto';
import type { AgentEvents } from '../app/events.js';
import type { EventBus } from '../core/bus.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { PullPoint } from './events-pull-point.js';
import { formatDateTime, parseDuration, parseTerminationTime } from './events-time.js';
import {
  actionHeader,
  eventPropertiesBody,
  type MotionFact,
  type MotionSource,
  motionNotifications,
  NS,
} from './events-xml.js';
import { VIDEO_SOURCE, VIDEO_SOURCE_CONFIG } from './media-model.js';
import { type SoapCall, SoapFault, type SoapReply, type SoapService } from './soap.js';
import { EVENTS_PATH } from './wiring.js';

export const SUBSCRIPTION_PATH = '/onvif/subscription/';

export interface OnvifEventsLimits {
  /** Pull points at once; a new one beyond it is refused (expired ones are cleaned first). */
  maxSubscriptions: number;
  /** Messages kept per pull point for a client that does not pull; the oldest go first. */
  maxQueuedMessages: number;
  /** The longest a PullMessages waits, whatever its Timeout asks. */
  maxPullTimeoutMs: number;
  /** Messages one PullMessages returns at most, whatever its MessageLimit asks. */
  maxMessageLimit: number;
  /** The longest lifetime a subscription is given (a longer one asked for is shortened to this). */
  maxTerminationMs: number;
}

export const DEFAULT_EVENTS_LIMITS: OnvifEventsLimits = {
  maxSubscriptions: 5,
  maxQueuedMessages: 100,
  maxPullTimeoutMs: 60_000,
  maxMessageLimit: 100,
  maxTerminationMs: 3_600_000,
};

/** The termination time of a subscription created without InitialTerminationTime. */
const DEFAULT_LIFETIME_MS = 60_000;
/** An alarm without its end (a lost event) must not grow the set of open alarms without limit. */
const MAX_OPEN_ALARMS = 64;

export interface OnvifEventsDeps {
  bus: EventBus<AgentEvents>;
  log: Logger;
  now?: () => number;
  /** The URL a client should use for a path on the ONVIF port (`host`: the name the client used). */
  xaddr: (path: string, host?: string) => string;
  /** The tokens motion messages name (the media service's video source and analytics configurations). */
  source?: MotionSource;
  limits?: Partial<OnvifEventsLimits>;
}

export interface OnvifEvents extends SoapService, Module {
  /** Ends every subscription (waiting pulls answer empty) and leaves the bus. */
  stop(): Promise<void>;
  readonly subscriptionCount: number;
}

export const DEFAULT_MOTION_SOURCE: MotionSource = {
  videoSource: VIDEO_SOURCE,
  videoSourceConfiguration: VIDEO_SOURCE_CONFIG,
  videoAnalyticsConfiguration: 'video_analytics_config',
  rule: 'MyMotionDetectorRule',
};

/**
 * The ONVIF events service (pull points only, no basic notification push): motion from the bus's
 * `alarm.changed` as `tns1:VideoSource/MotionAlarm` and `tns1:RuleEngine/CellMotionDetector/Motion`.
 */
export function createOnvifEvents(deps: OnvifEventsDeps): OnvifEvents {
  return new EventsService(deps);
}

class EventsService implements OnvifEvents {
  readonly name = 'onvif-events';
  readonly #deps: OnvifEventsDeps;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #limits: OnvifEventsLimits;
  readonly #source: MotionSource;
  readonly #pullPoints = new Map<string, PullPoint>();
  readonly #openAlarms = new Set<string>();
  #motionSince: number;

  constructor(deps: OnvifEventsDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'onvif-events' });
    this.#now = deps.now ?? Date.now;
    this.#limits = { ...DEFAULT_EVENTS_LIMITS, ...deps.limits };
    this.#source = deps.source ?? DEFAULT_MOTION_SOURCE;
    this.#motionSince = this.#now();
    deps.bus.on(this, 'alarm.changed', (event) => this.#onAlarm(event));
  }

  get subscriptionCount(): number {
    return this.#pullPoints.size;
  }

  handles(path: string): boolean {
    return path === EVENTS_PATH || path.startsWith(SUBSCRIPTION_PATH);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.#deps.bus.removeListeners(this);
    for (const pullPoint of this.#pullPoints.values()) pullPoint.close();
    this.#pullPoints.clear();
  }

  async handle(call: SoapCall): Promise<SoapReply> {
    if (call.path === EVENTS_PATH) {
      switch (call.operation) {
        case 'GetEventProperties':
          return this.#reply('EventPortType/GetEventPropertiesResponse', eventPropertiesBody());
        case 'GetServiceCapabilities':
          return this.#reply('EventPortType/GetServiceCapabilitiesResponse', this.#capabilities());
        case 'CreatePullPointSubscription':
          return this.#create(call.body, call.host);
        default:
          throw unsupported(call.operation);
      }
    }
    const pullPoint = this.#pullPoint(call.path);
    switch (call.operation) {
      case 'PullMessages':
        return this.#pull(pullPoint, call.body);
      case 'Renew':
        return this.#renew(pullPoint, call.body);
      case 'Unsubscribe':
        this.#remove(pullPoint, 'unsubscribed');
        return { body: '<wsnt:UnsubscribeResponse/>', header: wsnHeader('UnsubscribeResponse') };
      case 'SetSynchronizationPoint':
        pullPoint.push(this.#currentState());
        return this.#reply(
          'PullPointSubscription/SetSynchronizationPointResponse',
          '<tev:SetSynchronizationPointResponse/>',
        );
      default:
        throw unsupported(call.operation);
    }
  }

  #reply(action: string, body: string): SoapReply {
    return { body, header: actionHeader(action), namespaces: { wstop: NS.wstop } };
  }

  #capabilities(): string {
    const max = this.#limits.maxSubscriptions;
    return (
      '<tev:GetServiceCapabilitiesResponse><tev:Capabilities WSSubscriptionPolicySupport="false" ' +
      'WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" ' +
      `MaxNotificationProducers="0" MaxPullPoints="${max}" PersistentNotificationStorage="false"/>` +
      '</tev:GetServiceCapabilitiesResponse>'
    );
  }

  #create(body: Record<string, unknown>, host: string | undefined): SoapReply {
    const now = this.#now();
    const asked = text(body.InitialTerminationTime);
    const terminationAt = asked === undefined ? now + DEFAULT_LIFETIME_MS : this.#terminationTime(asked, now);
    this.#evictExpired(now);
    if (this.#pullPoints.size >= this.#limits.maxSubscriptions) {
      this.#log.warn(
        { max: this.#limits.maxSubscriptions },
        'onvif pull point refused: too many subscriptions',
      );
      throw new SoapFault(
        'Receiver',
        'ter:TooManySubscriptions',
        `at most ${this.#limits.maxSubscriptions} subscriptions`,
      );
    }
    const id = randomBytes(8).toString('hex');
    const pullPoint = new PullPoint({
      id,
      terminationAt,
      maxQueue: this.#limits.maxQueuedMessages,
      now: this.#now,
      onExpired: (expired) => this.#expired(expired),
    });
    this.#pullPoints.set(id, pullPoint);
    // A new subscriber learns the present state first (ONVIF core: property events start Initialized).
    pullPoint.push(this.#currentState());
    this.#log.info(
      { subscription: id, lifetimeMs: pullPoint.lifetimeMs, subscriptions: this.#pullPoints.size },
      'onvif pull point created',
    );
    return this.#reply(
      'EventPortType/CreatePullPointSubscriptionResponse',
      '<tev:CreatePullPointSubscriptionResponse>' +
        `<tev:SubscriptionReference><wsa:Address>${this.#deps.xaddr(SUBSCRIPTION_PATH + id, host)}</wsa:Address></tev:SubscriptionReference>` +
        `<wsnt:CurrentTime>${formatDateTime(now)}</wsnt:CurrentTime>` +
        `<wsnt:TerminationTime>${formatDateTime(terminationAt)}</wsnt:TerminationTime>` +
        '</tev:CreatePullPointSubscriptionResponse>',
    );
  }

  async #pull(pullPoint: PullPoint, body: Record<string, unknown>): Promise<SoapReply> {
    const timeoutText = text(body.Timeout);
    const timeoutMs = timeoutText === undefined ? 0 : parseDuration(timeoutText);
    if (timeoutMs === undefined) throw invalidArg('Timeout is not an xs:duration');
    const limitText = text(body.MessageLimit) ?? '1';
    if (!/^\d{1,9}$/.test(limitText)) throw invalidArg('MessageLimit is not a non-negative integer');
    const limit = Math.max(1, Math.min(Number(limitText), this.#limits.maxMessageLimit));
    // Pulling keeps a subscription alive: its termination time moves by the lifetime it was created with.
    pullPoint.renew(Math.max(pullPoint.terminationAt, this.#now() + pullPoint.lifetimeMs));
    const dropped = pullPoint.takeDropped();
    if (dropped > 0)
      this.#log.warn(
        { subscription: pullPoint.id, dropped },
        'onvif pull point queue full: oldest messages dropped',
      );
    const messages = await pullPoint.pull(limit, Math.min(timeoutMs, this.#limits.maxPullTimeoutMs));
    const now = this.#now();
    return this.#reply(
      'PullPointSubscription/PullMessagesResponse',
      '<tev:PullMessagesResponse>' +
        `<tev:CurrentTime>${formatDateTime(now)}</tev:CurrentTime>` +
        `<tev:TerminationTime>${formatDateTime(pullPoint.terminationAt)}</tev:TerminationTime>` +
        messages.join('') +
        '</tev:PullMessagesResponse>',
    );
  }

  #renew(pullPoint: PullPoint, body: Record<string, unknown>): SoapReply {
    const now = this.#now();
    const asked = text(body.TerminationTime);
    const terminationAt = asked === undefined ? now + DEFAULT_LIFETIME_MS : this.#terminationTime(asked, now);
    pullPoint.renew(terminationAt);
    return {
      body:
        '<wsnt:RenewResponse>' +
        `<wsnt:TerminationTime>${formatDateTime(pullPoint.terminationAt)}</wsnt:TerminationTime>` +
        `<wsnt:CurrentTime>${formatDateTime(now)}</wsnt:CurrentTime>` +
        '</wsnt:RenewResponse>',
      header: wsnHeader('RenewResponse'),
    };
  }

  /** A termination time the client asked for, in the future and at most maxTerminationMs away. */
  #terminationTime(asked: string, now: number): number {
    const at = parseTerminationTime(asked, now);
    if (at === undefined) throw invalidArg('termination time is neither an xs:duration nor an xs:dateTime');
    if (at <= now) throw invalidArg('termination time is not in the future');
    return Math.min(at, now + this.#limits.maxTerminationMs);
  }

  #pullPoint(path: string): PullPoint {
    const id = path.slice(SUBSCRIPTION_PATH.length);
    const pullPoint = /^[0-9a-f]{16}$/.test(id) ? this.#pullPoints.get(id) : undefined;
    if (!pullPoint) throw invalidArg('no such subscription (expired or unsubscribed)');
    return pullPoint;
  }

  #expired(pullPoint: PullPoint): void {
    // A timer may fire a little early by the injected clock: then it is armed again.
    if (this.#now() < pullPoint.terminationAt) {
      pullPoint.renew(pullPoint.terminationAt);
      return;
    }
    this.#remove(pullPoint, 'expired');
  }

  #evictExpired(now: number): void {
    for (const pullPoint of [...this.#pullPoints.values()]) {
      if (pullPoint.terminationAt <= now) this.#remove(pullPoint, 'expired');
    }
  }

  #remove(pullPoint: PullPoint, reason: 'expired' | 'unsubscribed'): void {
    if (this.#pullPoints.get(pullPoint.id) !== pullPoint) return;
    this.#pullPoints.delete(pullPoint.id);
    pullPoint.close();
    this.#log.info(
      { subscription: pullPoint.id, reason, subscriptions: this.#pullPoints.size },
      'onvif pull point ended',
    );
  }

  #onAlarm(event: AgentEvents['alarm.changed']): void {
    const before = this.#openAlarms.size > 0;
    if (event.phase === 'start') {
      if (this.#openAlarms.size >= MAX_OPEN_ALARMS) this.#openAlarms.clear();
      this.#openAlarms.add(event.alarmId);
    } else {
      this.#openAlarms.delete(event.alarmId);
    }
    const motion = this.#openAlarms.size > 0;
    if (motion === before) return;
    this.#motionSince = event.at;
    const messages = motionNotifications({ at: event.at, operation: 'Changed', motion }, this.#source);
    for (const pullPoint of this.#pullPoints.values()) pullPoint.push(messages);
  }

  #currentState(): string[] {
    const fact: MotionFact = {
      at: this.#motionSince,
      operation: 'Initialized',
      motion: this.#openAlarms.size > 0,
    };
    return motionNotifications(fact, this.#source);
  }
}

/**
 * The text of an element as fast-xml-parser gives it (a string, or `#text` beside attributes);
 * undefined when absent. Present but not text (repeated, nested) is a client's error.
 */
function text(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const inner = (value as Record<string, unknown>)['#text'];
    if (typeof inner === 'string') return inner;
  }
  throw invalidArg('an element that should hold text holds something else');
}

function invalidArg(message: string): SoapFault {
  return new SoapFault('Sender', 'ter:InvalidArgVal', message);
}

function unsupported(operation: string): SoapFault {
  return new SoapFault('Sender', 'ter:ActionNotSupported', `${operation.slice(0, 64)} is not supported here`);
}

function wsnHeader(action: string): string {
  return `<wsa:Action>http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/${action}</wsa:Action>`;
}
