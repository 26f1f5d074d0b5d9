import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { AgentEvents } from '../../src/app/events.js';
import { EventBus } from '../../src/core/bus.js';
import { createOnvifEvents, type OnvifEvents, type OnvifEventsLimits } from '../../src/onvif/events.js';
import type { SoapCall, SoapReply } from '../../src/onvif/soap.js';
import { captureLog } from '../core/fixtures.js';

const TEV = 'http://www.onvif.org/ver10/events/wsdl';

/** The parser options of the interface (ONVIF-INTERFACE.md), as the core server parses a request. */
export const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  isArray: (name) => name === 'NotificationMessage' || name === 'SimpleItem',
});

/** A reply inside an envelope declaring what the core's envelope declares, parsed: it must be well-formed XML. */
export function parseReply(reply: SoapReply): Record<string, unknown> {
  const standard: Record<string, string> = {
    s: 'http://www.w3.org/2003/05/soap-envelope',
    tt: 'http://www.onvif.org/ver10/schema',
    tev: TEV,
    wsnt: 'http://docs.oasis-open.org/wsn/b-2',
    wsa: 'http://www.w3.org/2005/08/addressing',
    tns1: 'http://www.onvif.org/ver10/topics',
    ter: 'http://www.onvif.org/ver10/error',
    xsd: 'http://www.w3.org/2001/XMLSchema',
  };
  const ns = Object.entries({ ...standard, ...reply.namespaces })
    .map(([prefix, uri]) => `xmlns:${prefix}="${uri}"`)
    .join(' ');
  const xml = `<s:Envelope ${ns}><s:Header>${reply.header ?? ''}</s:Header><s:Body>${reply.body}</s:Body></s:Envelope>`;
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`reply is not well-formed XML: ${JSON.stringify(valid)}`);
  return (parser.parse(xml) as { Envelope: { Body: Record<string, unknown> } }).Envelope.Body;
}

export interface Rig {
  events: OnvifEvents;
  bus: EventBus<AgentEvents>;
  log: ReturnType<typeof captureLog>;
  call(path: string, operation: string, body?: Record<string, unknown>): Promise<SoapReply>;
  /** CreatePullPointSubscription: the subscription's path. */
  subscribe(initialTerminationTime?: string): Promise<string>;
  /** PullMessages: the messages' topics and data values, in order. */
  pull(path: string, timeout?: string, limit?: string): Promise<Message[]>;
  motion(phase: 'start' | 'end', alarmId?: string): void;
}

export interface Message {
  topic: string;
  operation: string;
  utcTime: string;
  source: Record<string, string>;
  data: Record<string, string>;
}

export function rig(limits: Partial<OnvifEventsLimits> = {}): Rig {
  const log = captureLog();
  const bus = new EventBus<AgentEvents>(log.log);
  const events = createOnvifEvents({
    bus,
    log: log.log,
    now: () => Date.now(),
    xaddr: (path) => `http://192.0.2.10:8000${path}`,
    limits,
  });
  const call = (path: string, operation: string, body: Record<string, unknown> = {}) => {
    const soap: SoapCall = { operation, namespace: TEV, body, path, headers: {}, user: 'admin' };
    return events.handle(soap);
  };
  return {
    events,
    bus,
    log,
    call,
    async subscribe(initialTerminationTime) {
      const body =
        initialTerminationTime === undefined ? {} : { InitialTerminationTime: initialTerminationTime };
      const reply = parseReply(await call('/onvif/events_service', 'CreatePullPointSubscription', body));
      const response = reply.CreatePullPointSubscriptionResponse as {
        SubscriptionReference: { Address: string };
      };
      return new URL(response.SubscriptionReference.Address).pathname;
    },
    async pull(path, timeout = 'PT0S', limit = '10') {
      const reply = parseReply(await call(path, 'PullMessages', { Timeout: timeout, MessageLimit: limit }));
      return messagesOf(reply);
    },
    motion(phase, alarmId = 'a1') {
      bus.emit('alarm.changed', { phase, alarmId, at: Date.now() });
    },
  };
}

type Items = { SimpleItem?: { '@_Name': string; '@_Value': string }[] } | undefined;

function items(node: Items): Record<string, string> {
  return Object.fromEntries((node?.SimpleItem ?? []).map((i) => [i['@_Name'], i['@_Value']]));
}

export function messagesOf(body: Record<string, unknown>): Message[] {
  const response = body.PullMessagesResponse as {
    NotificationMessage?: {
      Topic: { '#text': string };
      Message: {
        Message: {
          '@_UtcTime': string;
          '@_PropertyOperation': string;
          Source: Items;
          Data: Items;
        };
      };
    }[];
  };
  return (response.NotificationMessage ?? []).map((n) => ({
    topic: n.Topic['#text'],
    operation: n.Message.Message['@_PropertyOperation'],
    utcTime: n.Message.Message['@_UtcTime'],
    source: items(n.Message.Message.Source),
    data: items(n.Message.Message.Data),
  }));
}
