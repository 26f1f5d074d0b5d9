import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import QRCode from 'qrcode';
import { describe, expect, it, vi } from 'vitest';
import type { Binder } from '../../src/provisioning/bind.js';
import { ProvisioningConfig } from '../../src/provisioning/config.js';
import { formatWifiQr } from '../../src/provisioning/qr-payload.js';
import { type GrayFrame, loadDecoder } from '../../src/provisioning/qr-reader.js';
import { ProvisioningService, type SoftApMode } from '../../src/provisioning/service.js';
import type { BindOutcome, BindRequest } from '../../src/provisioning/softap/types.js';
import { SimWifiBackend } from '../../src/provisioning/wifi/sim.js';
import type { ConnectResult, WifiBackend } from '../../src/provisioning/wifi/types.js';
import { captureLog } from '../core/fixtures.js';

/** A phone screen filling most of a 320x180 analysis frame: dark modules on white, 4 px each. */
function qrFrame(text: string, ts: number): GrayFrame {
  const width = 320;
  const height = 180;
  const data = new Uint8Array(width * height).fill(235);
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  const scale = Math.floor(160 / size);
  const left = Math.floor((width - size * scale) / 2);
  const top = Math.floor((height - size * scale) / 2);
  for (let y = 0; y < size * scale; y++) {
    for (let x = 0; x < size * scale; x++) {
      if (qr.modules.get(Math.floor(y / scale), Math.floor(x / scale)))
        data[(top + y) * width + left + x] = 20;
    }
  }
  return { width, height, data, ts };
}

const NETWORKS = [{ ssid: 'HomeNet', password: 'correct horse', rssi: -50, channel: 6, dhcp: true }];

class RecordingBinder implements Binder {
  readonly requests: BindRequest[] = [];
  constructor(readonly answer: BindOutcome) {}
  async bind(request: BindRequest): Promise<BindOutcome> {
    this.requests.push(request);
    return this.answer;
  }
}

async function setup(
  options: {
    wifi?: WifiBackend;
    binder?: Binder;
    config?: Record<string, unknown>;
    softap?: SoftApMode;
  } = {},
) {
  const dataDir = await mkdtemp(join(tmpdir(), 'prov-'));
  const events: Record<string, unknown>[] = [];
  const captured = captureLog();
  const binder = options.binder ?? new RecordingBinder('bound');
  const config = Value.Default(
    ProvisioningConfig,
    structuredClone(options.config ?? {}),
  ) as ProvisioningConfig;
  const make = (dir: string) =>
    new ProvisioningService({
      config: { ...config, softap: { ...config.softap, whileWaiting: options.softap !== undefined } },
      dataDir: dir,
      wifi: options.wifi ?? new SimWifiBackend(NETWORKS),
      binder,
      raise: async (data) => events.push(data),
      secrets: captured.secrets,
      ...(options.softap ? { softap: () => options.softap as SoftApMode } : {}),
      log: captured.log,
    });
  const service = make(dataDir);
  await service.start();
  // jsQR is loaded in the background once the camera waits; frames before that are not read.
  await loadDecoder();
  /** Offers frames until the service is done with what they showed. */
  let frameTs = 0;
  const show = async (text: string, frames = 1) => {
    for (let i = 0; i < frames; i++) {
      // A second apart: past the reader's interval every time.
      frameTs += 1000;
      service.offerFrame(qrFrame(text, frameTs));
      await service.settled();
    }
  };
  return { dataDir, events, service, binder, captured, show, restart: () => make(dataDir) };
}

const states = (events: Record<string, unknown>[]) =>
  events.map((e) => (e.reason ? `${e.state}:${e.reason}` : String(e.state)));

describe('the provisioning state machine', () => {
  it('joins and stays unbound (local use) for a plain Wi-Fi code without a bind token', async () => {
    const { events, show, binder } = await setup();
    await show(
      formatWifiQr({
        security: 'WPA',
        ssid: 'HomeNet',
        password: 'correct horse',
        bindToken: undefined,
        region: undefined,
      }),
    );
    expect(states(events)).toEqual(['scanning', 'joining', 'provisioned']);
    expect(events.at(-1)).toMatchObject({ bound: false, via: 'qr', ssid: 'HomeNet' });
    expect((binder as RecordingBinder).requests).toEqual([]);
  });

  it('never acts twice on the same code, and reads a new one after a failure', async () => {
    const { events, show } = await setup();
    const wrong = formatWifiQr({
      security: 'WPA',
      ssid: 'HomeNet',
      password: 'wrong horse!',
      bindToken: undefined,
      region: undefined,
    });
    await show(wrong, 5);
    expect(states(events)).toEqual(['scanning', 'joining', 'failed:auth_error']);
    await show(
      formatWifiQr({
        security: 'WPA',
        ssid: 'Elsewhere',
        password: 'correct horse',
        bindToken: undefined,
        region: undefined,
      }),
    );
    expect(states(events).slice(3)).toEqual(['joining', 'failed:ap_not_found']);
  });

  it('counts as bound only on the cloud’s acknowledgement, and says why not otherwise', async () => {
    const code = formatWifiQr({
      security: 'WPA',
      ssid: 'HomeNet',
      password: 'correct horse',
      bindToken: 'bt-0123456789',
      region: 'eu',
    });
    const unreachable = await setup({ binder: new RecordingBinder({ failed: 'cloud_unreachable' }) });
    await unreachable.show(code);
    expect(states(unreachable.events)).toEqual([
      'scanning',
      'joining',
      'binding',
      'failed:cloud_unreachable',
    ]);
    expect((unreachable.binder as RecordingBinder).requests).toEqual([
      { token: 'bt-0123456789', region: 'eu' },
    ]);

    const bound = await setup();
    await bound.show(code);
    expect(states(bound.events)).toEqual(['scanning', 'joining', 'binding', 'provisioned']);
    expect(bound.events.at(-1)).toMatchObject({ bound: true });
    // The token and the password are secrets from the moment the code is read.
    bound.captured.log.info({ note: 'bt-0123456789 correct horse' }, 'probe');
    expect(bound.captured.lines.at(-1)).not.toContain('bt-0123456789');
    expect(bound.captured.lines.at(-1)).not.toContain('correct horse');
  });

  it('gives up a join that never settles as ap_not_found', async () => {
    const hanging: WifiBackend = {
      scan: async () => [],
      connect: () => new Promise<ConnectResult>(() => {}),
      status: async () => undefined,
      forget: async () => {},
    };
    const { events, service } = await setup({ wifi: hanging, config: { joinTimeoutSeconds: 5 } });
    const started = Date.now();
    const outcome = await service.join('HomeNet', 'correct horse', 'softap');
    expect(outcome).toEqual({ failed: 'ap_not_found' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
    expect(states(events)).toEqual(['scanning', 'joining', 'failed:ap_not_found']);
  }, 15_000);

  it('after a power cut mid-join, waits for a new setup instead of staying stuck', async () => {
    const { dataDir, restart } = await setup();
    await writeFile(
      join(dataDir, 'provisioning.json'),
      JSON.stringify({
        schemaVersion: 1,
        state: 'joining',
        via: 'qr',
        ssid: 'HomeNet',
        bound: false,
        updatedAt: 1,
      }),
    );
    const again = restart();
    await again.start();
    expect(again.state.state).toBe('scanning');
    expect(JSON.parse(await readFile(join(dataDir, 'provisioning.json'), 'utf8')).state).toBe('scanning');
  });

  it('a press of the button while the AP is up clears its lockouts; bringing it up by itself does not', async () => {
    const calls: string[] = [];
    const softap: SoftApMode = {
      start: async () => void calls.push('start'),
      stop: async () => void calls.push('stop'),
      clearLockouts: () => void calls.push('clear'),
    };
    const { service } = await setup({ softap });
    expect(calls).toEqual(['start']);
    await service.startSoftAp();
    expect(calls).toEqual(['start', 'clear']);
  });

  it('brings the SoftAP up while waiting and takes it down a while after the setup', async () => {
    const calls: string[] = [];
    const softap: SoftApMode = {
      start: async () => void calls.push('start'),
      stop: async () => void calls.push('stop'),
    };
    const { service, events } = await setup({ softap, config: { softap: { lingerSeconds: 0 } } });
    expect(service.state.state).toBe('softap');
    expect(await service.join('HomeNet', 'correct horse', 'softap')).toBe('connected');
    await vi.waitFor(() => expect(calls).toEqual(['start', 'stop']));
    expect(states(events)).toEqual(['softap', 'joining', 'provisioned']);
  });
});
