import type { KeyObject } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Static, Type as T } from '@sinclair/typebox';
import type { CommandRouter } from '../cloud/commands.js';
import { AgentError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { UsedTokens } from '../webrtc/replay.js';
import { TokenError, verifyCloudToken } from '../webrtc/token.js';
import type { FormatConfig } from './config.js';
import { formatCard } from './format.js';
import type { RecordingIndex } from './index-log.js';
import type { RecordingService } from './service.js';

// Checked again by Date.parse; the pattern keeps out what only looks like a number.
const Iso = T.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T', maxLength: 40 });
const Range = T.Object({ from: Iso, to: Iso }, { additionalProperties: false });
const FormatParams = T.Object({ confirm: T.String({ maxLength: 4096 }) }, { additionalProperties: false });
const DeleteParams = T.Union([Range, T.Object({ all: T.Literal(true) }, { additionalProperties: false })]);

/** Segments of one stream closer than this are one span on a timeline. */
const SPAN_GAP_MS = 1000;
/** Answers stay within an MQTT message; `truncated` says there is more (ask a shorter range). */
const MAX_ITEMS = 2000;

export interface Span {
  start: string;
  end: string;
  stream: 'main' | 'sub';
  /** `event` when every segment in it is an event recording, `continuous` otherwise. */
  kind: 'continuous' | 'event';
  bytes: number;
  segments: number;
}

function parseRange(params: { from: string; to: string }): { from: number; to: number } {
  const from = Date.parse(params.from);
  const to = Date.parse(params.to);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to < from)
    throw new AgentError('bad_request', '`from` and `to` must be ISO 8601 times with from <= to');
  return { from, to };
}

function storageUnavailable(service: RecordingService): AgentError {
  return new AgentError('storage_unavailable', `the SD card is ${service.status.state}`, {
    details: { state: service.status.state },
  });
}

export interface RecordingList {
  spans: Span[];
  events: { eventId: string; start: string; end: string | null }[];
  truncated: boolean;
}

/** The answer to `recordings`: segments merged into spans per stream, and the events, in [from, to]. */
export function listRecordings(index: RecordingIndex, from: number, to: number): RecordingList {
  const spans: (Span & { endMs: number })[] = [];
  const open = new Map<string, Span & { endMs: number }>();
  for (const s of index.between(from, to)) {
    const current = open.get(s.stream);
    if (current && s.start - current.endMs <= SPAN_GAP_MS) {
      current.endMs = Math.max(current.endMs, s.end);
      current.end = new Date(current.endMs).toISOString();
      current.bytes += s.bytes;
      current.segments += 1;
      if (s.kind === 'continuous') current.kind = 'continuous';
      continue;
    }
    const span = {
      start: new Date(s.start).toISOString(),
      end: new Date(s.end).toISOString(),
      endMs: s.end,
      stream: s.stream,
      kind: s.kind,
      bytes: s.bytes,
      segments: 1,
    };
    open.set(s.stream, span);
    spans.push(span);
  }
  const events = [...index.events.values()]
    .filter((e) => e.start <= to && (e.end ?? e.start) >= from)
    .sort((a, b) => a.start - b.start)
    .map((e) => ({
      eventId: e.id,
      start: new Date(e.start).toISOString(),
      end: e.end === undefined ? null : new Date(e.end).toISOString(),
    }));
  return {
    spans: spans.slice(0, MAX_ITEMS).map(({ endMs: _e, ...span }) => span),
    events: events.slice(0, MAX_ITEMS),
    truncated: spans.length > MAX_ITEMS || events.length > MAX_ITEMS,
  };
}

/** `recordings` (spans and events in a range) and `deleteRecordings` (a range, or all). */
export function registerRecordingCommands(
  commands: CommandRouter,
  service: RecordingService,
  log: Logger,
): void {
  commands.register<Static<typeof Range>>('recordings', {
    params: Range,
    run: async (params) => {
      const { from, to } = parseRange(params);
      if (!service.ready()) throw storageUnavailable(service);
      return {
        result: await service.withIndex(async (index) => listRecordings(index, from, to)),
      };
    },
  });

  commands.register<Static<typeof DeleteParams>>('deleteRecordings', {
    params: DeleteParams,
    run: async (params) => {
      const range =
        'all' in params
          ? { from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY }
          : parseRange(params);
      if (!service.ready()) throw storageUnavailable(service);
      // The segment being written is closed first, so a range that reaches it removes it too.
      await service.cutCurrent();
      const result = await service.withIndex(async (index) => {
        let segments = 0;
        let bytes = 0;
        for (const s of index.sortedSegments()) {
          if (s.end < range.from || s.start > range.to) continue;
          await rm(join(service.deviceDir, s.path), { force: true });
          await index.removeSegment(s.path);
          segments += 1;
          bytes += s.bytes;
        }
        let events = 0;
        for (const e of [...index.events.values()]) {
          if (e.start > range.to || (e.end ?? e.start) < range.from) continue;
          await index.removeEvent(e.id);
          events += 1;
        }
        return { deletedSegments: segments, deletedBytes: bytes, deletedEvents: events };
      });
      log.warn({ ...result, all: 'all' in params }, 'recordings deleted on request');
      return { result };
    },
  });
}

export interface FormatCommandDeps {
  config: FormatConfig;
  root: string;
  deviceId: string;
  /** The cloud keys the agent trusts (the same as for viewer tokens). */
  cloudKeys: () => readonly KeyObject[];
  usedTokens: UsedTokens;
}

/**
 * `formatStorage`: the owner's confirmation is a cloud token granting `formatStorage`, used once.
 * Answers when the card is formatted and mounted again (with the new storage info) or when a step
 * failed. The token is checked before anything else and spent only when the format is about to run.
 */
export function registerFormatCommand(
  commands: CommandRouter,
  service: RecordingService,
  deps: FormatCommandDeps,
  log: Logger,
): void {
  let loaded: Promise<void> | undefined;
  commands.register<Static<typeof FormatParams>>('formatStorage', {
    params: FormatParams,
    run: async (params) => {
      loaded ??= deps.usedTokens.load();
      await loaded;
      const nowMs = Date.now();
      const claims = asAgentError(() =>
        verifyCloudToken(params.confirm, {
          keys: deps.cloudKeys(),
          deviceId: deps.deviceId,
          right: 'formatStorage',
          nowMs,
        }),
      );
      if (!deps.config.device)
        throw new AgentError('format_unavailable', 'this camera has no block device configured for the card');
      if (service.status.state === 'absent' && !service.formatting)
        throw new AgentError('storage_absent', 'there is no SD card to format');
      if (service.formatting) throw new AgentError('busy', 'the card is being formatted');
      if (!(await deps.usedTokens.use(claims.jti, claims.exp, nowMs, claims.iat)))
        throw new AgentError('token_replayed', 'token was used before');
      log.warn({ device: deps.config.device, fsType: deps.config.fsType }, 'format: requested by the owner');
      const storage = await service.formatCard(() => formatCard(deps.config, deps.root, log));
      log.warn({ state: storage.state, capacityBytes: storage.capacityBytes }, 'format: card back');
      return { result: { storage } };
    },
  });
}

function asAgentError<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof TokenError) throw new AgentError(err.code, errorMessage(err));
    throw err;
  }
}
