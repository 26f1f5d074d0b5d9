import { join } from 'node:path';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { LedPattern } from '../hardware/led.js';
import type { PromptName } from '../hardware/voice/prompts.js';
import { StateFile } from '../storage/state-file.js';
import type { Binder } from './bind.js';
import type { ProvisioningConfig } from './config.js';
import { parseWifiQr, QrPayloadError } from './qr-payload.js';
import { type GrayFrame, loadDecoder, QrReader } from './qr-reader.js';
import type { BindOutcome, BindRequest, ConnectOutcome } from './softap/types.js';
import { contractOutcome } from './softap-wifi.js';
import { type FailureReason, ProvisioningRecord, type ProvisioningStateName } from './state.js';
import type { WifiBackend } from './wifi/types.js';

/** What SoftAP mode needs from its owner: bring the AP and the protocol server up, and down again. */
export interface SoftApMode {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The owner pressed the button while the AP was up: lift every wrong-proof lockout. */
  clearLockouts?(): void;
}

export interface ProvisioningDeps {
  config: ProvisioningConfig;
  dataDir: string;
  wifi: WifiBackend;
  binder: Binder;
  /** Raises `evt/provisioning`. */
  raise: (data: Record<string, unknown>) => Promise<unknown>;
  /** Registers the Wi-Fi password and bind token so no log line can carry them. */
  secrets: { add(value: string): void };
  /** True when the secret store was found damaged at start (its credentials are gone). */
  credentialsLost?: () => boolean;
  led?: { set(pattern: LedPattern): void };
  voice?: { say(prompt: PromptName): Promise<void> };
  /** Built lazily: it needs `join` and `bindFromApp` of this service. */
  softap?: (service: ProvisioningService) => SoftApMode;
  /** Called when the network or the binding changed, for the `info` document. */
  onInfoChanged?: () => void;
  /** After every persisted change of the setup state. */
  onStateChanged?: (state: ProvisioningStateName) => void;
  log: Logger;
}

type Via = 'qr' | 'softap';

/** Waiting for a setup: the QR reader runs and the app may connect. */
const WAITING: readonly ProvisioningStateName[] = ['unprovisioned', 'scanning', 'softap', 'failed'];

/**
 * The provisioning state machine (contract section 4): unprovisioned → scanning (QR from the camera's
 * own frames) or softap (the app) → joining → binding → provisioned, or failed with the contract's
 * reason and back to waiting, so a mistake never strands the camera. Every change is persisted,
 * raised as `evt/provisioning`, shown on the LED and spoken.
 */
export class ProvisioningService implements Module {
  readonly name = 'provisioning';
  readonly #deps: ProvisioningDeps;
  readonly #log: Logger;
  readonly #file: StateFile<typeof ProvisioningRecord>;
  readonly #reader: QrReader;
  /** Codes already acted on: a phone held in view is read many times, and a failed code fails again. */
  readonly #actedOn = new Set<string>();
  #record: ProvisioningRecord = { schemaVersion: 1, state: 'unprovisioned', bound: false, updatedAt: 0 };
  #softap: SoftApMode | undefined;
  #softapTimer: NodeJS.Timeout | undefined;
  #busy: Promise<unknown> | undefined;
  #link: { ssid: string; rssi: number } | undefined;
  #stopped = false;

  constructor(deps: ProvisioningDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'provisioning' });
    this.#file = new StateFile(join(deps.dataDir, 'provisioning.json'), ProvisioningRecord, this.#log);
    this.#reader = new QrReader({ intervalMs: deps.config.qr.intervalMs });
  }

  get state(): ProvisioningRecord {
    return { ...this.#record };
  }

  /** The network the camera is on, as last read from the backend (for `info`). */
  get link(): { ssid: string; rssi: number } | undefined {
    return this.#link;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    let saved = await this.#file.load();
    if (saved.state !== 'unprovisioned' && this.#deps.credentialsLost?.()) {
      // Without its credentials the camera cannot reach its owner; waiting for a setup lets them recover it.
      this.#log.error({ was: saved.state }, 'credentials lost with the secret store; back to setup');
      saved = { schemaVersion: 1, state: 'unprovisioned', bound: false, updatedAt: Date.now() };
      await this.#file.save(saved);
    }
    this.#record = saved;
    // Asking nmcli or wpa_cli takes a process start: not on the way to online.
    void this.#readLink().then(() => this.#deps.onInfoChanged?.());
    if (saved.state === 'provisioned') {
      this.#log.info({ state: saved.state, bound: saved.bound, led: 'online' }, 'provisioned already');
      this.#deps.led?.set('online');
      return;
    }
    if (saved.state === 'joining' || saved.state === 'binding') {
      this.#log.warn({ state: saved.state }, 'setup was interrupted by a restart; waiting for a new one');
    }
    await this.#wait();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#softapTimer);
    await this.#busy?.catch(() => undefined);
    await this.#stopSoftAp();
  }

  /** Resolves when no setup step started by a QR code is running (tests and shutdown). */
  async settled(): Promise<void> {
    while (this.#busy !== undefined) await this.#busy.catch(() => undefined);
  }

  /** Offered every analysis frame; reads QR codes only while waiting for a setup. */
  offerFrame(frame: GrayFrame): void {
    if (!this.#qrActive()) return;
    const text = this.#reader.read(frame);
    if (text === undefined || this.#actedOn.has(text)) return;
    this.#actedOn.add(text);
    this.#run(() => this.#fromQr(text));
  }

  /**
   * Short press of the reset button (or the simulated one in the console): the app can set the camera
   * up over its AP. The press is the owner at the camera, so it also clears the AP's lockouts.
   */
  async startSoftAp(): Promise<void> {
    if (!this.#busy && !this.#stopped) this.#softap?.clearLockouts?.();
    await this.#openSoftAp();
  }

  async #openSoftAp(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    const make = this.#deps.softap;
    if (!make) {
      this.#log.warn('SoftAP mode is not available on this device');
      return;
    }
    const before = this.#record.state;
    if (!this.#softap) {
      this.#softap = make(this);
      try {
        await this.#softap.start();
      } catch (err) {
        this.#log.error({ err }, 'SoftAP mode could not start');
        this.#softap = undefined;
        return;
      }
    }
    await this.#set({ state: 'softap', reason: undefined }, 'waiting', 'softap');
    clearTimeout(this.#softapTimer);
    // Without the QR reader, the AP is the only way to set an unprovisioned camera up: it stays.
    if (before === 'provisioned' || this.#deps.config.qr.enabled) {
      this.#softapTimer = setTimeout(
        () => void this.#softapTimedOut(before),
        this.#deps.config.softap.timeoutMinutes * 60_000,
      );
      this.#softapTimer.unref();
    }
  }

  /** The Wi-Fi join, for a QR code or the app; the outcome in the contract's words. */
  async join(ssid: string, password: string, via: Via = 'softap'): Promise<ConnectOutcome> {
    if (password) this.#deps.secrets.add(password);
    await this.#set({ state: 'joining', reason: undefined, via, ssid }, 'joining', 'connecting');
    const outcome = await this.#connect(ssid, password);
    if (outcome !== 'connected') {
      await this.#fail(outcome.failed);
      return outcome;
    }
    this.#log.info({ ssid, via }, 'joined the network');
    await this.#readLink();
    if (via === 'softap') await this.#provisioned(this.#record.bound);
    return outcome;
  }

  /** `cloud-bind` from the app, once the station is on the network. */
  bindFromApp(request: BindRequest): Promise<BindOutcome> {
    return this.#bind(request);
  }

  #qrActive(): boolean {
    return this.#deps.config.qr.enabled && !this.#busy && WAITING.includes(this.#record.state);
  }

  #run(task: () => Promise<void>): void {
    const running = task()
      .catch((err: unknown) => this.#log.error({ err }, 'provisioning step failed'))
      .finally(() => {
        if (this.#busy === running) this.#busy = undefined;
      });
    this.#busy = running;
  }

  async #fromQr(text: string): Promise<void> {
    let qr: ReturnType<typeof parseWifiQr>;
    try {
      qr = parseWifiQr(text);
    } catch (err) {
      const code = err instanceof QrPayloadError ? err.code : 'malformed';
      // The text may be a Wi-Fi password the parser refused: its length and the reason are enough.
      this.#log.warn({ code, length: text.length }, 'QR code refused');
      await this.#fail('invalid_qr');
      return;
    }
    if (qr.bindToken) this.#deps.secrets.add(qr.bindToken);
    void this.#deps.voice?.say('scanning');
    const joined = await this.join(qr.ssid, qr.password ?? '', 'qr');
    if (joined !== 'connected') return;
    if (!qr.bindToken) {
      this.#log.info('QR code without a bind token: joined and left unbound (local use)');
      await this.#provisioned(false);
      return;
    }
    await this.#bind({ token: qr.bindToken, region: qr.region ?? '' });
  }

  async #connect(ssid: string, password: string): Promise<ConnectOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<ConnectOutcome>((resolve) => {
      timer = setTimeout(
        () => resolve({ failed: 'ap_not_found' }),
        this.#deps.config.joinTimeoutSeconds * 1000,
      );
    });
    try {
      return await Promise.race([this.#deps.wifi.connect({ ssid, password }).then(contractOutcome), limit]);
    } catch (err) {
      this.#log.warn({ err, ssid }, 'the Wi-Fi backend failed while joining');
      return { failed: 'ap_not_found' };
    } finally {
      clearTimeout(timer);
    }
  }

  async #bind(request: BindRequest): Promise<BindOutcome> {
    this.#deps.secrets.add(request.token);
    await this.#set({ state: 'binding', reason: undefined, region: request.region || undefined }, 'joining');
    const outcome = await this.#deps.binder.bind(request);
    if (outcome === 'bound') await this.#provisioned(true);
    else await this.#fail(outcome.failed);
    return outcome;
  }

  async #provisioned(bound: boolean): Promise<void> {
    this.#actedOn.clear();
    const activatedAt = bound ? (this.#record.activatedAt ?? Date.now()) : this.#record.activatedAt;
    await this.#set({ state: 'provisioned', reason: undefined, bound, activatedAt }, 'online', 'connected');
    this.#deps.onInfoChanged?.();
    if (this.#softap) {
      clearTimeout(this.#softapTimer);
      // The app polls the outcome over the AP: it stays up a little longer.
      this.#softapTimer = setTimeout(
        () => void this.#stopSoftAp(),
        this.#deps.config.softap.lingerSeconds * 1000,
      );
      this.#softapTimer.unref();
    }
  }

  async #fail(reason: FailureReason): Promise<void> {
    await this.#set({ state: 'failed', reason }, 'error', reason);
  }

  async #softapTimedOut(before: ProvisioningStateName): Promise<void> {
    if (this.#record.state === 'joining' || this.#record.state === 'binding') return;
    this.#log.info('SoftAP mode timed out');
    await this.#stopSoftAp();
    if (this.#record.state === 'provisioned') return;
    if (before === 'provisioned') await this.#set({ state: 'provisioned', reason: undefined }, 'online');
    else await this.#set({ state: 'scanning' }, 'waiting');
  }

  async #stopSoftAp(): Promise<void> {
    clearTimeout(this.#softapTimer);
    const softap = this.#softap;
    this.#softap = undefined;
    await softap?.stop().catch((err: unknown) => this.#log.warn({ err }, 'SoftAP mode did not stop cleanly'));
  }

  async #readLink(): Promise<void> {
    try {
      const status = await this.#deps.wifi.status();
      this.#link = status ? { ssid: status.ssid, rssi: status.rssi } : undefined;
    } catch (err) {
      this.#log.debug({ err }, 'could not read the Wi-Fi status');
    }
  }

  /** Out of the box, after a reset or a failure: the QR reader and (unless configured off) the AP. */
  async #wait(): Promise<void> {
    const { qr, softap } = this.#deps.config;
    if (qr.enabled) void loadDecoder();
    if (this.#deps.softap && (softap.whileWaiting || !qr.enabled)) await this.#openSoftAp();
    else await this.#set({ state: 'scanning' }, 'waiting', 'waiting');
  }

  async #set(change: Partial<ProvisioningRecord>, led: LedPattern, prompt?: PromptName): Promise<void> {
    const next: ProvisioningRecord = { ...this.#record, ...change, updatedAt: Date.now() };
    for (const key of Object.keys(next) as (keyof ProvisioningRecord)[]) {
      if (next[key] === undefined) delete next[key];
    }
    this.#record = next;
    await this.#file.save(next);
    this.#log.info({ state: next.state, reason: next.reason, via: next.via, led }, 'provisioning state');
    this.#deps.led?.set(led);
    this.#deps.onStateChanged?.(next.state);
    if (prompt) void this.#deps.voice?.say(prompt);
    const { state, reason, via, ssid, bound } = next;
    await this.#deps
      .raise({
        state,
        ...(reason ? { reason } : {}),
        ...(via ? { via } : {}),
        ...(ssid ? { ssid } : {}),
        bound,
      })
      .catch((err: unknown) => this.#log.warn({ err }, 'could not raise the provisioning event'));
  }
}
