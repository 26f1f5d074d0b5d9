import type { KeyObject } from 'node:crypto';
import type { AgentEvents } from '../app/events.js';
import { parseBody } from '../cloud/commands.js';
import type { CloudLink, IncomingMessage } from '../cloud/link.js';
import type { Topics } from '../cloud/topics.js';
import type { EventBus } from '../core/bus.js';
import { errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { SerialQueue } from '../core/serial-queue.js';
import { acceptDocument } from './accept.js';
import type { OtaConfig } from './config.js';
import { type JobDocument, parseDocument, parseNotice, safeUrl } from './document.js';
import { type OtaReason, reasonOf } from './errors.js';
import type { OtaPaths } from './firmware.js';
import { sha256File } from './hash-file.js';
import { type HealthCheck, waitHealthy } from './health.js';
import { ImageFiles } from './images.js';
import type { Installer, RunningFirmware } from './installer.js';
import { trustedKeys } from './keys.js';
import type { JobReporter, JobUpdate } from './reporter.js';
import { resumeAction } from './resume.js';
import { type FinalReport, type JobRecord, type OtaState, otaStateFile, type Phase } from './state.js';

export interface OtaServiceDeps {
  config: OtaConfig;
  paths: OtaPaths;
  firmware: RunningFirmware;
  installer: Installer;
  model: string;
  link: CloudLink;
  topics: Topics;
  bus: EventBus<AgentEvents>;
  reporter: JobReporter;
  health: readonly HealthCheck[];
  maxPayloadBytes: number;
  /** Asks the daemon to reboot (in the simulator: to restart the agent, which boots the new slot). */
  reboot: () => void;
  log: Logger;
}

/**
 * Firmware jobs (contract section 6): accepts one signed job at a time, downloads, verifies,
 * installs into the inactive slot, reboots, and after the reboot keeps the new firmware only if it
 * comes online in time. Every step is recorded before it is taken, so a restart at any moment
 * resumes or rolls back instead of leaving the camera in between.
 */
export class OtaService implements Module {
  readonly name = 'ota';
  readonly #d: OtaServiceDeps;
  readonly #log: Logger;
  readonly #file;
  readonly #images: ImageFiles;
  #state: OtaState = { schemaVersion: 1, floorVersionCode: 0 };
  #keys: Map<string, KeyObject> = new Map();
  #abort = new AbortController();
  /** Job work (resume, run, clean-up), one at a time; a failed task is logged and the next still runs. */
  readonly #task: SerialQueue;
  /** Notifications, one at a time and in order, apart from the long-running job work above. */
  readonly #intake: SerialQueue;
  #started = false;

  constructor(deps: OtaServiceDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ module: 'ota' });
    this.#file = otaStateFile(deps.paths.stateFile, this.#log);
    this.#images = new ImageFiles(deps.paths.downloadDir, deps.config);
    this.#task = new SerialQueue({
      onError: (err) => this.#log.error({ err }, 'firmware job task failed'),
    });
    this.#intake = new SerialQueue({
      // Notifications are rare; a flood past this is dropped rather than buffered.
      maxPending: 32,
      onError: (err) => this.#log.error({ err }, 'firmware job notification not handled'),
    });
    deps.link.route(deps.topics.jobsNotify, (message) => this.#enqueueNotice(message));
  }

  async start(): Promise<void> {
    const { config, firmware, bus } = this.#d;
    this.#abort = new AbortController();
    this.#keys = trustedKeys(config.trustedKeys);
    this.#state = await this.#file.load();
    this.#started = true;
    this.#log.info(
      {
        version: firmware.version,
        versionCode: firmware.versionCode,
        slot: firmware.slot,
        keys: this.#keys.size,
      },
      'firmware running',
    );
    bus.on(this, 'cloud.connected', () => this.#onConnected());
    const job = this.#state.job;
    if (job) this.#launch(() => this.#resume(job));
    else this.#launch(() => this.#images.removeAll());
  }

  async stop(): Promise<void> {
    this.#started = false;
    this.#abort.abort();
    this.#d.bus.removeListeners(this);
    await this.#intake.idle();
    await this.#task.idle();
    await this.#d.reporter.idle(2000);
  }

  /**
   * The version the cloud's last firmware job offers, while it runs or once it succeeded; undefined
   * when no job is known (Home Assistant's update entity shows it as the latest version).
   */
  get offeredVersion(): string | undefined {
    const fromJob = (this.#state.job?.document as { version?: unknown } | undefined)?.version;
    if (typeof fromJob === 'string') return fromJob;
    const last = this.#state.last;
    const fromLast = last?.status === 'SUCCEEDED' ? last.statusDetails.version : undefined;
    return typeof fromLast === 'string' ? fromLast : undefined;
  }

  get floorVersionCode(): number {
    return Math.max(this.#state.floorVersionCode, this.#d.config.minVersionCode);
  }

  #enqueueNotice(message: IncomingMessage): void {
    this.#intake.push(() => this.#onNotice(message));
  }

  async #onNotice(message: IncomingMessage): Promise<void> {
    if (!this.#started) return;
    let notice: { jobId: string; document: unknown };
    try {
      notice = parseNotice(parseBody(message.payload, this.#d.maxPayloadBytes));
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, 'firmware job notification refused: no usable jobId');
      this.#d.reporter.event({ status: 'REJECTED', reason: 'bad_request' });
      return;
    }
    const { jobId } = notice;
    const active = this.#state.job;
    if (active?.jobId === jobId) {
      this.#log.info({ jobId }, 'job already in progress; notification ignored');
      this.#d.reporter.progress(jobId, phaseUpdate(active.phase));
      return;
    }
    if (active) return this.#reject(jobId, 'busy', `job ${active.jobId} is in progress`);
    if (this.#state.last?.jobId === jobId) {
      this.#log.info({ jobId }, 'job already finished; its final status is sent again');
      await this.#deliverLast(true);
      return;
    }
    let document: JobDocument;
    try {
      document = acceptDocument(notice.document, {
        model: this.#d.model,
        runningVersionCode: this.#d.firmware.versionCode,
        floorVersionCode: this.floorVersionCode,
        format: this.#d.installer.format,
        keys: this.#keys,
      });
      await this.#images.checkSpace(document, this.#d.installer);
    } catch (err) {
      return this.#reject(jobId, reasonOf(err), errorMessage(err));
    }
    const job: JobRecord = {
      jobId,
      document: notice.document,
      phase: 'downloading',
      from: { version: this.#d.firmware.version, versionCode: this.#d.firmware.versionCode },
      acceptedAt: Date.now(),
    };
    this.#state.job = job;
    await this.#save();
    this.#log.info(
      {
        jobId,
        version: document.version,
        versionCode: document.versionCode,
        url: safeUrl(document.artifact.url),
      },
      'firmware job accepted',
    );
    this.#launch(() => this.#run(job, document));
  }

  async #reject(jobId: string, reason: OtaReason, detail: string): Promise<void> {
    this.#log.warn({ jobId, reason, detail }, 'firmware job rejected');
    this.#d.reporter.event({ jobId, status: 'REJECTED', reason });
    await this.#d.reporter.send(jobId, { status: 'REJECTED', statusDetails: { reason, detail } });
  }

  #launch(task: () => Promise<void>): void {
    this.#task.push(task);
  }

  async #resume(job: JobRecord): Promise<void> {
    let document: JobDocument;
    try {
      document = parseDocument(job.document);
    } catch (err) {
      return this.#fail(job, 'invalid_document', `stored job unreadable: ${errorMessage(err)}`);
    }
    const action = resumeAction(job, document.versionCode, this.#d.firmware);
    this.#log.info({ jobId: job.jobId, phase: job.phase, action: action.kind }, 'resuming firmware job');
    switch (action.kind) {
      case 'continue':
        return this.#run(job, document, true);
      case 'confirm':
        return this.#confirm(job, document);
      case 'reboot':
        return this.#rebootNow(job);
      case 'rolled-back':
        this.#log.error({ jobId: job.jobId, cause: action.cause }, 'new firmware was rolled back');
        return this.#finish(job, 'FAILED', {
          phase: 'confirming',
          reason: 'rolled_back',
          cause: action.cause,
          ...(job.failure ? { detail: job.failure.detail } : {}),
        });
      case 'mark-bad-again':
        return this.#rollBack(job);
      case 'rollback-failed':
        return this.#finish(job, 'FAILED', {
          phase: 'confirming',
          reason: 'rollback_failed',
          cause: job.failure?.reason ?? 'health_check_failed',
        });
    }
  }

  async #run(job: JobRecord, document: JobDocument, resumed = false): Promise<void> {
    const signal = this.#abort.signal;
    try {
      if (job.phase === 'downloading' || job.phase === 'verifying') {
        await this.#download(job, document, signal);
      } else if (resumed && !(await this.#images.complete(document))) {
        // The kept image is gone (a wiped download directory): fetch it again rather than fail.
        await this.#download(job, document, signal);
      } else if (resumed) {
        // Checked again before writing a slot: the flash may have changed since it was verified.
        await this.#setPhase(job, 'verifying');
        await this.#verify(document, await sha256File(this.#images.path(document), document.artifact.size));
      }
      await this.#install(job, document, signal);
    } catch (err) {
      if (signal.aborted) {
        this.#log.info(
          { jobId: job.jobId, phase: job.phase },
          'firmware job paused by stop; resumes at next start',
        );
        return;
      }
      await this.#fail(job, reasonOf(err), errorMessage(err));
    }
  }

  async #download(job: JobRecord, document: JobDocument, signal: AbortSignal): Promise<void> {
    await this.#setPhase(job, 'downloading', { pct: 0 });
    const result = await this.#images.fetch(document, signal, {
      onPct: (pct) => this.#d.reporter.progress(job.jobId, phaseUpdate('downloading', { pct })),
      onRetry: (info) => this.#log.warn({ jobId: job.jobId, ...info }, 'download interrupted; resuming'),
    });
    if (result.resumedFrom > 0) {
      this.#log.info(
        { jobId: job.jobId, resumedFrom: result.resumedFrom },
        'download resumed from a partial file',
      );
    }
    await this.#setPhase(job, 'verifying');
    await this.#verify(document, result.sha256);
  }

  async #verify(document: JobDocument, sha256: string): Promise<void> {
    await this.#images.verify(document, sha256);
    this.#log.info({ sha256 }, 'image verified');
  }

  async #install(job: JobRecord, document: JobDocument, signal: AbortSignal): Promise<void> {
    await this.#setPhase(job, 'installing');
    await this.#d.installer.install(
      this.#images.path(document),
      { version: document.version, versionCode: document.versionCode },
      signal,
      (pct) => this.#d.reporter.progress(job.jobId, phaseUpdate('installing', { pct })),
    );
    await this.#rebootNow(job);
  }

  async #rebootNow(job: JobRecord): Promise<void> {
    job.bootId = this.#d.firmware.bootId;
    await this.#setPhase(job, 'rebooting');
    await this.#images.removeAll();
    // Give the "rebooting" report a moment to leave; the reboot must not wait for a dead broker.
    await this.#d.reporter.idle(3000);
    this.#log.warn({ jobId: job.jobId }, 'firmware switched; rebooting into it');
    this.#d.reboot();
  }

  async #confirm(job: JobRecord, document: JobDocument): Promise<void> {
    const { config, installer } = this.#d;
    await this.#setPhase(job, 'confirming');
    this.#log.info({ jobId: job.jobId, timeoutMs: config.health.timeoutMs }, 'confirming new firmware');
    const outcome = await waitHealthy(this.#d.health, config.health.timeoutMs, this.#abort.signal).catch(
      () => undefined,
    );
    if (!outcome) return; // stopping: the next start confirms (or the boot counter falls back)
    if (outcome.ok) {
      await installer.markGood();
      this.#state.floorVersionCode = Math.max(this.#state.floorVersionCode, document.versionCode);
      this.#log.info(
        { jobId: job.jobId, version: document.version, checks: this.#d.health.map((c) => c.name) },
        'new firmware is healthy; kept',
      );
      return this.#finish(job, 'SUCCEEDED', { version: document.version, versionCode: document.versionCode });
    }
    const detail = `not healthy within ${config.health.timeoutMs} ms: ${outcome.failed.join(', ')}`;
    this.#log.error({ jobId: job.jobId, failed: outcome.failed }, 'new firmware is unhealthy; rolling back');
    job.failure = { reason: 'health_check_failed', detail };
    return this.#rollBack(job);
  }

  /** Recorded first, so a cut before mark-bad took is seen at the next start and done again. */
  async #rollBack(job: JobRecord): Promise<void> {
    job.bootId = this.#d.firmware.bootId;
    job.rollbackAttempts = (job.rollbackAttempts ?? 0) + 1;
    await this.#setPhase(job, 'rolling_back');
    await this.#d.installer.markBad();
    this.#d.reboot();
  }

  async #fail(job: JobRecord, reason: OtaReason, detail: string): Promise<void> {
    this.#log.error({ jobId: job.jobId, phase: job.phase, reason, detail }, 'firmware job failed');
    await this.#images.removeAll();
    await this.#finish(job, 'FAILED', { phase: job.phase, reason, detail });
  }

  async #finish(
    job: JobRecord,
    status: FinalReport['status'],
    statusDetails: Record<string, unknown>,
  ): Promise<void> {
    this.#state.job = undefined;
    this.#state.last = { jobId: job.jobId, status, statusDetails, delivered: false };
    await this.#save();
    this.#d.reporter.event({
      jobId: job.jobId,
      status,
      ...pick(statusDetails, ['reason', 'cause', 'version']),
    });
    await this.#deliverLast(false);
  }

  /** The final status is kept until the broker acknowledged it, across outages and reboots. */
  async #deliverLast(again: boolean): Promise<void> {
    const last = this.#state.last;
    if (!last || (last.delivered && !again)) return;
    const sent = await this.#d.reporter.send(last.jobId, {
      status: last.status,
      statusDetails: last.statusDetails,
    });
    if (sent && !last.delivered) {
      last.delivered = true;
      await this.#save();
    }
  }

  #onConnected(): void {
    const job = this.#state.job;
    if (job) this.#d.reporter.progress(job.jobId, phaseUpdate(job.phase));
    void this.#deliverLast(false).catch((err: unknown) =>
      this.#log.warn({ err }, 'final job status not sent'),
    );
  }

  async #setPhase(job: JobRecord, phase: Phase, extra: Record<string, unknown> = {}): Promise<void> {
    job.phase = phase;
    await this.#save();
    this.#log.info({ jobId: job.jobId, phase }, 'firmware job phase');
    this.#d.reporter.progress(job.jobId, phaseUpdate(phase, extra));
    this.#d.reporter.event({ jobId: job.jobId, phase });
  }

  #save(): Promise<void> {
    return this.#file.save(this.#state);
  }
}

function phaseUpdate(phase: Phase, extra: Record<string, unknown> = {}): JobUpdate {
  return { status: 'IN_PROGRESS', statusDetails: { phase, ...extra } };
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}
