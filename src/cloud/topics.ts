/** Topic builders for contract section 3. Pure: no I/O, no config. */
export const TOPIC_VERSION = 'cam/v1';

export interface Topics {
  root: string;
  status: string;
  info: string;
  reported: string;
  desired: string;
  commandFilter: string;
  command(name: string): string;
  event(type: string): string;
  jobsNotify: string;
  jobUpdate(jobId: string): string;
  webrtc(sessionId: string, kind: 'offer' | 'answer' | 'candidate' | 'close'): string;
  webrtcFilter: string;
  bind: string;
  /** Our own response topic for requests the device makes (bind). */
  replies: string;
}

/** MQTT wildcards and separators are not allowed inside one topic level. */
export function isSafeTopicLevel(level: string): boolean {
  return level.length > 0 && level.length <= 128 && !/[/#+]/.test(level) && !level.includes('\u0000');
}

/**
 * Where a request may ask for its answer: a plain topic name (no wildcards, no NUL, not `$SYS`-like)
 * outside the `cam/v1/` tree, so no request can make a device publish as itself or as another device.
 */
export function isSafeResponseTopic(topic: string): boolean {
  return (
    topic.length > 0 &&
    Buffer.byteLength(topic) <= 256 &&
    !/[#+]/.test(topic) &&
    !topic.includes('\u0000') &&
    !topic.startsWith('$') &&
    !topic.startsWith(`${TOPIC_VERSION}/`) &&
    topic !== TOPIC_VERSION
  );
}

export function topicsFor(deviceId: string): Topics {
  if (!isSafeTopicLevel(deviceId))
    throw new Error(`device id not usable in a topic: ${JSON.stringify(deviceId)}`);
  const root = `${TOPIC_VERSION}/${deviceId}`;
  const level = (value: string) => {
    if (!isSafeTopicLevel(value)) throw new Error(`not a topic level: ${JSON.stringify(value)}`);
    return value;
  };
  return {
    root,
    status: `${root}/status`,
    info: `${root}/info`,
    reported: `${root}/state/reported`,
    desired: `${root}/state/desired`,
    commandFilter: `${root}/cmd/+`,
    command: (name) => `${root}/cmd/${level(name)}`,
    event: (type) => `${root}/evt/${level(type)}`,
    jobsNotify: `${root}/jobs/notify`,
    jobUpdate: (jobId) => `${root}/jobs/${level(jobId)}/update`,
    webrtc: (sessionId, kind) => `${root}/webrtc/${level(sessionId)}/${kind}`,
    webrtcFilter: `${root}/webrtc/+/+`,
    bind: `${root}/bind`,
    replies: `${root}/replies`,
  };
}

/** Splits `cam/v1/{id}/cmd/{name}` style topics; returns the levels after the root, or undefined. */
export function levelsAfterRoot(topics: Topics, topic: string): string[] | undefined {
  if (!topic.startsWith(`${topics.root}/`)) return undefined;
  return topic.slice(topics.root.length + 1).split('/');
}
