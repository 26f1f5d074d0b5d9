import { type Static, Type as T } from '@sinclair/typebox';
import type { Logger } from '../core/logger.js';
import { VersionedFile } from '../storage/versioned-file.js';

export const Phase = T.Union([
  T.Literal('downloading'),
  T.Literal('verifying'),
  T.Literal('installing'),
  T.Literal('rebooting'),
  T.Literal('confirming'),
  T.Literal('rolling_back'),
]);
export type Phase = Static<typeof Phase>;

export const JobRecord = T.Object({
  jobId: T.String(),
  /** The accepted, signed document as it came: on resume it is not fetched or trusted anew. */
  document: T.Unknown(),
  phase: Phase,
  from: T.Object({ version: T.String(), versionCode: T.Integer() }),
  acceptedAt: T.Integer(),
  /** The boot that asked for the reboot (see RunningFirmware.bootId). */
  bootId: T.Optional(T.String()),
  /** How many times mark-bad and a reboot were asked for. */
  rollbackAttempts: T.Optional(T.Integer({ minimum: 0 })),
  /** Why the new firmware is being rolled back. */
  failure: T.Optional(T.Object({ reason: T.String(), detail: T.String() })),
});
export type JobRecord = Static<typeof JobRecord>;

export const FinalReport = T.Object({
  jobId: T.String(),
  status: T.Union([T.Literal('SUCCEEDED'), T.Literal('FAILED')]),
  statusDetails: T.Record(T.String(), T.Unknown()),
  /** Cleared until the broker acknowledged it, so a reboot or an outage cannot lose it. */
  delivered: T.Boolean(),
});
export type FinalReport = Static<typeof FinalReport>;

export const OtaState = T.Object({
  schemaVersion: T.Literal(1, { default: 1 }),
  /** Highest versionCode confirmed on this device: never install below it. */
  floorVersionCode: T.Integer({ minimum: 0, default: 0 }),
  job: T.Optional(JobRecord),
  last: T.Optional(FinalReport),
});
export type OtaState = Static<typeof OtaState>;

export function otaStateFile(path: string, log: Logger): VersionedFile<typeof OtaState> {
  return new VersionedFile({ path, schema: OtaState, version: 1, log });
}
