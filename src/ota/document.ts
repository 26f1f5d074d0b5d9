import { type Static, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isSafeTopicLevel } from '../cloud/topics.js';
import { OtaError } from './errors.js';

export const ArtifactFormat = T.Union([T.Literal('raucb'), T.Literal('swu'), T.Literal('tar')]);

/**
 * The job document of contract section 6. Members the device does not know are allowed (a newer cloud
 * may add some) and are covered by the signature like every other member.
 */
export const JobDocument = T.Object({
  op: T.String({ minLength: 1, maxLength: 64 }),
  model: T.String({ minLength: 1, maxLength: 64 }),
  version: T.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.+-]*)?$', maxLength: 64 }),
  versionCode: T.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }),
  artifact: T.Object({
    url: T.String({ minLength: 1, maxLength: 4096 }),
    size: T.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    sha256: T.String({ pattern: '^[0-9a-f]{64}$' }),
    format: ArtifactFormat,
  }),
  signature: T.Object({
    alg: T.String({ minLength: 1, maxLength: 32 }),
    keyId: T.String({ minLength: 1, maxLength: 128 }),
    value: T.String({ minLength: 1, maxLength: 256 }),
  }),
});

export type JobDocument = Static<typeof JobDocument>;
export type ArtifactFormat = Static<typeof ArtifactFormat>;

export interface JobNotice {
  jobId: string;
  document: unknown;
}

/** The `jobs/notify` envelope. The job id must fit in a topic level: it names the update topic. */
export function parseNotice(body: unknown): JobNotice {
  const { jobId, document } = (body ?? {}) as { jobId?: unknown; document?: unknown };
  if (typeof jobId !== 'string' || !isSafeTopicLevel(jobId)) {
    throw new OtaError('bad_request', 'jobId must be a string usable as one MQTT topic level');
  }
  return { jobId, document };
}

export function parseDocument(document: unknown): JobDocument {
  if (!Value.Check(JobDocument, document)) {
    const first = Value.Errors(JobDocument, document).First();
    throw new OtaError('invalid_document', `${first?.path || 'document'}: ${first?.message ?? 'invalid'}`);
  }
  return document;
}

/** The URL without credentials or query (a presigned URL carries its signature there): safe to log. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparsable url)';
  }
}
