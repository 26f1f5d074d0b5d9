import { formatDateTime } from './events-time.js';

/** The XML of the events service: topic set, notification messages. Protocol-pure. */

export const NS = {
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
} as const;

export const ACTION_BASE = 'http://www.onvif.org/ver10/events/wsdl';
export const CONCRETE_SET = 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet';

/** The tokens a motion message names as its source (they match the media service's configurations). */
export interface MotionSource {
  /** The video source (MotionAlarm's Source). */
  videoSource: string;
  videoSourceConfiguration: string;
  videoAnalyticsConfiguration: string;
  rule: string;
}

/** One motion fact as the NVR sees it: a state at a time, first reported or changed. */
export interface MotionFact {
  at: number;
  operation: 'Initialized' | 'Changed';
  motion: boolean;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function item(name: string, value: string): string {
  return `<tt:SimpleItem Name="${name}" Value="${escapeXml(value)}"/>`;
}

function notification(topic: string, fact: MotionFact, source: string, data: string): string {
  return (
    '<wsnt:NotificationMessage>' +
    `<wsnt:Topic Dialect="${CONCRETE_SET}">${topic}</wsnt:Topic>` +
    '<wsnt:Message>' +
    `<tt:Message UtcTime="${formatDateTime(fact.at)}" PropertyOperation="${fact.operation}">` +
    `<tt:Source>${source}</tt:Source><tt:Data>${data}</tt:Data>` +
    '</tt:Message></wsnt:Message></wsnt:NotificationMessage>'
  );
}

/** The two notification messages of one motion fact: the MotionAlarm and the cell motion detector's. */
export function motionNotifications(fact: MotionFact, source: MotionSource): string[] {
  const value = fact.motion ? 'true' : 'false';
  return [
    notification(
      'tns1:VideoSource/MotionAlarm',
      fact,
      item('Source', source.videoSource),
      item('State', value),
    ),
    notification(
      'tns1:RuleEngine/CellMotionDetector/Motion',
      fact,
      item('VideoSourceConfigurationToken', source.videoSourceConfiguration) +
        item('VideoAnalyticsConfigurationToken', source.videoAnalyticsConfiguration) +
        item('Rule', source.rule),
      item('IsMotion', value),
    ),
  ];
}

function description(source: string, data: string): string {
  return (
    '<tt:MessageDescription IsProperty="true">' +
    `<tt:Source>${source}</tt:Source><tt:Data>${data}</tt:Data>` +
    '</tt:MessageDescription>'
  );
}

function declaration(name: string, type: string): string {
  return `<tt:SimpleItemDescription Name="${name}" Type="${type}"/>`;
}

/** GetEventPropertiesResponse: the fixed topic set (motion only) and the mandatory dialects. */
export function eventPropertiesBody(): string {
  const motionAlarm = description(
    declaration('Source', 'tt:ReferenceToken'),
    declaration('State', 'xsd:boolean'),
  );
  const cellMotion = description(
    declaration('VideoSourceConfigurationToken', 'tt:ReferenceToken') +
      declaration('VideoAnalyticsConfigurationToken', 'tt:ReferenceToken') +
      declaration('Rule', 'xsd:string'),
    declaration('IsMotion', 'xsd:boolean'),
  );
  return (
    '<tev:GetEventPropertiesResponse>' +
    '<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>' +
    '<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>' +
    '<wstop:TopicSet>' +
    `<tns1:VideoSource wstop:topic="false"><MotionAlarm wstop:topic="true">${motionAlarm}</MotionAlarm></tns1:VideoSource>` +
    '<tns1:RuleEngine wstop:topic="false"><CellMotionDetector wstop:topic="false">' +
    `<Motion wstop:topic="true">${cellMotion}</Motion>` +
    '</CellMotionDetector></tns1:RuleEngine>' +
    '</wstop:TopicSet>' +
    '<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete</wsnt:TopicExpressionDialect>' +
    `<wsnt:TopicExpressionDialect>${CONCRETE_SET}</wsnt:TopicExpressionDialect>` +
    '<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>' +
    '<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation>' +
    '</tev:GetEventPropertiesResponse>'
  );
}

export function actionHeader(action: string): string {
  return `<wsa:Action>${ACTION_BASE}/${action}</wsa:Action>`;
}
