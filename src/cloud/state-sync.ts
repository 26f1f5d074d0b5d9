import { type Static, Type as T } from '@sinclair/typebox';
import type { AgentEvents } from '../app/events.js';
import type { EventBus } from '../core/bus.js';
import { AgentError, errorCode, errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { SerialQueue } from '../core/serial-queue.js';
import { mergeDesired, type Rejection } from '../settings/apply.js';
import { ICE_CREDENTIALS_STORE, SECRET_SETTINGS, type Settings, SettingsShape } from '../settings/schema.js';
import type { SecretStore } from '../storage/secret-store.js';
import { type Migrations, VersionedFile } from '../storage/versioned-file.js';
import { parseBody } from './commands.js';
import type { CloudLink, IncomingMessage } from './link.js';
import type { Topics } from './topics.js';

const ResultSchema = T.Object({
  version: T.Union([T.Integer(), T.Null()]),
  applied: T.Array(T.String()),
  rejected: T.Array(T.Object({ key: T.String(), code: T.String(), message: T.String() })),
});

/**
 * The schema version of `state.json` this firmware writes. To change the schema: bump it, make
 * `schemaVersion` that literal, and add the step from the previous version to the migrations below;
 * the new version is then written to `state.v<n>.json` and the older firmware's file stays as it was
 * (src/storage/versioned-file.ts, docs/ota.md "Settings across upgrades and rollbacks").
 */
export const DEVICE_STATE_VERSION = 1;

/** `[n]` turns a version-n device state into version n+1. None yet: version 1 is the only one. */
export const DEVICE_STATE_MIGRATIONS: Migrations = {};

export const DeviceStateSchema = T.Object({
  schemaVersion: T.Literal(DEVICE_STATE_VERSION, { default: DEVICE_STATE_VERSION }),
  /** The last desired version applied; older or equal versions are ignored. */
  desiredVersion: T.Integer({ minimum: 0, default: 0 }),
  settings: T.Object(SettingsShape, { additionalProperties: false, default: {} }),
  lastResult: T.Optional(ResultSchema),
});

type DeviceState = Static<typeof DeviceStateSchema>;
type ApplyResult = Static<typeof ResultSchema>;

/** What a local change (ONVIF, Home Assistant) did, key by key, as desired state reports it. */
export interface LocalChangeResult {
  applied: string[];
  rejected: { key: string; code: string; message: string }[];
}

/** `state.json` as this firmware reads and writes it. */
export function deviceStateFile(path: string, log: Logger): VersionedFile<typeof DeviceStateSchema> {
  return new VersionedFile({
    path,
    schema: DeviceStateSchema,
    version: DEVICE_STATE_VERSION,
    migrations: DEVICE_STATE_MIGRATIONS,
    log,
  });
}

export interface StateSyncDeps {
  link: CloudLink;
  topics: Topics;
  bus: EventBus<AgentEvents>;
  store: SecretStore;
  statePath: string;
  maxPayloadBytes: number;
  log: Logger;
}

/**
 * Desired and reported state (contract section 3): applies only newer desired versions, persists the
 * applied version and settings atomically before acting on them, and reports the whole state with the
 * outcome of the last document, including each rejected key.
 */
export class StateSync implements Module {
  readonly name = 'state-sync';
  readonly #deps: StateSyncDeps;
  readonly #log: Logger;
  readonly #file: VersionedFile<typeof DeviceStateSchema>;
  #state: DeviceState | undefined;
  /** The last local change, shown in `reported` so the cloud knows where the new values came from. */
  #local: (LocalChangeResult & { source: string; at: number }) | undefined;
  /**
   * Documents one at a time, in arrival order. A document that fails (e.g. ENOSPC on save) is reported
   * and the next one still applies: the queue's rule is that a failure never reaches later tasks.
   */
  readonly #queue: SerialQueue;

  constructor(deps: StateSyncDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'state' });
    this.#file = deviceStateFile(deps.statePath, this.#log);
    this.#queue = new SerialQueue({
      // Retained and redelivered documents are few; a flood past this is refused, not buffered.
      maxPending: 64,
      onError: (err) => this.#log.error({ err, code: errorCode(err) }, 'desired state document failed'),
    });
    deps.link.route(deps.topics.desired, (message) => this.#enqueue(message));
  }

  get settings(): Settings {
    if (!this.#state) throw new AgentError('internal', 'state is not loaded yet');
    return this.#state.settings;
  }

  get desiredVersion(): number {
    return this.#state?.desiredVersion ?? 0;
  }

  async start(): Promise<void> {
    this.#state = await this.#file.load();
    if (this.#file.damaged) {
      // Fail closed: the defaults would mean privacy off. The cloud's retained desired state (applied
      // again, since the applied version is back to 0) restores the owner's settings.
      this.#state.settings.privacyMode = true;
      this.#log.error('device state was damaged: privacy mode stays on until the owner sets it again');
    }
    this.#deps.bus.on(this, 'cloud.connected', () => this.#publishReported());
  }

  async stop(): Promise<void> {
    this.#deps.bus.removeListeners(this);
    await this.#queue.idle();
  }

  /**
   * A change the owner made on the local network (an NVR over ONVIF, Home Assistant): merged and
   * validated exactly like a desired-state document, saved, announced with `settings.changed` and
   * reported, so the cloud sees it; the desired version is left as it is. Queued behind documents
   * already arriving, so the two never interleave.
   */
  applyLocal(patch: Record<string, unknown>, source: string): Promise<LocalChangeResult> {
    return this.#queue.run(async () => {
      const state = this.#state;
      if (!state) throw new AgentError('internal', 'state is not loaded yet');
      const merged = mergeDesired(state.settings, patch);
      const result: LocalChangeResult = { applied: merged.applied, rejected: merged.rejected };
      if (merged.applied.length > 0) {
        const settings = await this.#moveSecretsToStore(merged.settings);
        const next = { ...state, settings };
        await this.#file.save(next);
        this.#state = next;
      }
      this.#local = { ...result, source, at: Date.now() };
      this.#log.info({ source, applied: merged.applied, rejected: merged.rejected }, 'local settings change');
      if (merged.applied.length > 0)
        this.#deps.bus.emit('settings.changed', { settings: this.settings, changed: merged.applied });
      await this.#publishReported();
      return result;
    });
  }

  #enqueue(message: IncomingMessage): void {
    if (this.#queue.pending >= 64) {
      this.#log.warn('desired state documents arrive faster than they apply; this one is dropped');
      return;
    }
    this.#queue.push(() => this.#onDesired(message));
  }

  async #onDesired(message: IncomingMessage): Promise<void> {
    const state = this.#state;
    if (!state) return;
    let doc: { version: number; state: Record<string, unknown> };
    try {
      doc = parseDesired(parseBody(message.payload, this.#deps.maxPayloadBytes));
    } catch (err) {
      this.#log.warn({ err, code: errorCode(err) }, 'desired state document refused');
      state.lastResult = {
        version: null,
        applied: [],
        rejected: [{ key: '(document)', code: errorCode(err), message: errorMessage(err) }],
      };
      await this.#publishReported();
      return;
    }
    if (doc.version <= state.desiredVersion) {
      this.#log.debug(
        { version: doc.version, applied: state.desiredVersion },
        'desired version not newer, ignored',
      );
      return;
    }
    const merged = mergeDesired(state.settings, doc.state);
    const result: ApplyResult = { version: doc.version, applied: merged.applied, rejected: merged.rejected };
    let next: DeviceState;
    try {
      const secrets = await this.#moveSecretsToStore(merged.settings);
      next = { ...state, desiredVersion: doc.version, settings: secrets, lastResult: result };
      await this.#file.save(next);
    } catch (err) {
      // Not applied, so not recorded as applied: the same version (or a newer one) applies later.
      this.#log.error({ err, version: doc.version }, 'desired state could not be saved; not applied');
      state.lastResult = {
        version: doc.version,
        applied: [],
        rejected: [{ key: '(document)', code: 'save_failed', message: errorMessage(err).slice(0, 200) }],
      };
      await this.#publishReported();
      return;
    }
    this.#state = next;
    logRejections(this.#log, doc.version, merged.rejected);
    if (merged.applied.length > 0)
      this.#deps.bus.emit('settings.changed', { settings: next.settings, changed: merged.applied });
    await this.#publishReported();
  }

  async #moveSecretsToStore(settings: Settings): Promise<Settings> {
    const out = structuredClone(settings) as Record<string, Record<string, unknown> | unknown>;
    for (const { key, field, storeName } of SECRET_SETTINGS) {
      const section = out[key] as Record<string, unknown> | undefined;
      const value = section?.[field];
      if (typeof value === 'string' && section) {
        await this.#deps.store.set(storeName, value);
        delete section[field];
      }
    }
    const ice = out.iceServers as { credential?: string }[] | undefined;
    if (ice?.some((server) => server.credential !== undefined)) {
      await this.#deps.store.set(
        ICE_CREDENTIALS_STORE,
        JSON.stringify(ice.map((server) => server.credential ?? null)),
      );
      for (const server of ice) delete server.credential;
    }
    return out as Settings;
  }

  async #publishReported(): Promise<void> {
    const state = this.#state;
    if (!state || !this.#deps.link.connected) return;
    const body = {
      version: state.desiredVersion,
      state: reportable(state.settings, this.#deps.store),
      ...(state.lastResult ? { result: state.lastResult } : {}),
      ...(this.#local ? { local: this.#local } : {}),
    };
    await this.#deps.link
      .publish(this.#deps.topics.reported, body, { retain: true })
      .catch((err: unknown) => this.#log.warn({ err }, 'could not publish reported state'));
  }
}

function parseDesired(body: unknown): { version: number; state: Record<string, unknown> } {
  const { version, state } = body as { version?: unknown; state?: unknown };
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new AgentError('bad_request', 'version must be a non-negative integer');
  }
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new AgentError('bad_request', 'state must be a JSON object');
  }
  return { version, state: state as Record<string, unknown> };
}

/** What `reported` shows: settings without secret values, but saying whether each is set. */
function reportable(settings: Settings, store: SecretStore): Record<string, unknown> {
  const out = structuredClone(settings) as Record<string, unknown>;
  for (const { key, field, storeName } of SECRET_SETTINGS) {
    const section = out[key] as Record<string, unknown> | undefined;
    if (section) section[`${field}Set`] = store.has(storeName);
  }
  const credentials = JSON.parse(store.get(ICE_CREDENTIALS_STORE) ?? '[]') as (string | null)[];
  out.iceServers = settings.iceServers.map((server, i) => ({
    ...server,
    credentialSet: typeof credentials[i] === 'string',
  }));
  return out;
}

function logRejections(log: Logger, version: number, rejected: Rejection[]): void {
  if (rejected.length > 0) log.warn({ version, rejected }, 'desired state keys rejected');
}
