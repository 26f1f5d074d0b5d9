import { AgentError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { execTool } from './exec.js';
import { checkPassphrase, checkSsid, ssidHex, strongestPerSsid } from './networks.js';
import type { ConnectResult, Network, WifiBackend, WifiCredentials, WifiStatus } from './types.js';
import { watchJoin } from './wpa-join.js';
import { decodeWpaText, parseKeyValueLines, parseListNetworks, parseScanResults } from './wpa-parse.js';
import { WpaCliSession } from './wpa-session.js';

export interface WpaCliOptions {
  iface: string;
  log: Logger;
  command?: string;
  /** wpa_cli -p: wpa_supplicant's ctrl_interface directory, when not the default /var/run/wpa_supplicant. */
  ctrlDir?: string;
  /** From select_network to association, and from association to an address. */
  connectTimeoutMs?: number;
  dhcpTimeoutMs?: number;
  /** Scans without the SSID before it counts as not found (one scan can miss a beacon). */
  notFoundScans?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * wpa_supplicant through wpa_cli. Commands without secrets run as plain wpa_cli invocations; joining
 * runs in an interactive session fed on stdin (see WpaCliSession), which also delivers the events
 * that tell a wrong key from a missing network.
 */
export class WpaCliBackend implements WifiBackend {
  readonly #o: WpaCliOptions;
  readonly #log: Logger;

  constructor(options: WpaCliOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'wifi-wpa' });
  }

  async scan(): Promise<Network[]> {
    const session = await this.#session();
    try {
      const done = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10000);
        session.on('event', (text) => {
          if (text.startsWith('CTRL-EVENT-SCAN-RESULTS')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const reply = (await session.request('scan'))[0] ?? '';
      // FAIL-BUSY: a scan is already running; its results are as good as ours.
      if (reply === 'OK' || reply === 'FAIL-BUSY') await done;
      return strongestPerSsid(parseScanResults(await session.request('scan_results')));
    } finally {
      await session.close();
    }
  }

  async status(): Promise<WifiStatus | undefined> {
    const status = parseKeyValueLines((await this.#cli(['status'])).split('\n'));
    const ip = status.get('ip_address');
    const ssid = status.get('ssid');
    if (status.get('wpa_state') !== 'COMPLETED' || !ip || ssid === undefined) return undefined;
    const signal = parseKeyValueLines((await this.#cli(['signal_poll'])).split('\n'));
    // Wired and some SDIO drivers answer signal_poll with FAIL: 0 means "not known".
    return { ssid: decodeWpaText(ssid), rssi: Number(signal.get('RSSI') ?? 0) || 0, ip };
  }

  async connect(creds: WifiCredentials): Promise<ConnectResult> {
    const ssidProblem = checkSsid(creds.ssid);
    if (ssidProblem) return { failed: 'ap_not_found', detail: ssidProblem };
    const pass = checkPassphrase(creds.password);
    if (pass.kind === 'invalid') return { failed: 'auth_error', detail: pass.reason };

    const s = await this.#session();
    try {
      const networks = parseListNetworks(await s.request('list_networks'));
      const previous =
        networks.find((n) => n.flags.includes('[CURRENT]')) ??
        networks.find((n) => !n.flags.includes('[DISABLED]'));
      const id = (await s.request('add_network'))[0] ?? '';
      if (!/^\d+$/.test(id)) throw new AgentError('command_failed', `wpa_cli add_network answered "${id}"`);
      await ok(s, `set_network ${id} ssid ${ssidHex(creds.ssid)}`);
      if (pass.kind === 'open') await ok(s, `set_network ${id} key_mgmt NONE`);
      // wpa_supplicant takes the quoted passphrase up to the last quote: no escaping needed.
      else if (pass.kind === 'passphrase') await ok(s, `set_network ${id} psk "${creds.password}"`);
      else await ok(s, `set_network ${id} psk ${creds.password}`);
      this.#log.info({ ssid: creds.ssid, id, previous: previous?.ssid }, 'joining Wi-Fi network');

      const outcome = watchJoin(s, id, {
        connectTimeoutMs: this.#o.connectTimeoutMs ?? 30000,
        dhcpTimeoutMs: this.#o.dhcpTimeoutMs ?? 20000,
        notFoundScans: this.#o.notFoundScans ?? 3,
      });
      await ok(s, `select_network ${id}`);
      const result = await outcome;
      if (result === 'connected') {
        // Proven: the older networks go, and the configuration is saved with only this one.
        for (const n of networks) await s.request(`remove_network ${n.id}`);
        await ok(s, 'save_config');
        this.#log.info({ ssid: creds.ssid }, 'joined Wi-Fi network');
      } else {
        this.#log.warn({ ssid: creds.ssid, ...result }, 'could not join Wi-Fi network, going back');
        await s.request(`remove_network ${id}`);
        if (previous) await s.request(`select_network ${previous.id}`);
        else await s.request('enable_network all');
      }
      return result;
    } finally {
      await s.close();
    }
  }

  async forget(ssid: string): Promise<void> {
    const networks = parseListNetworks((await this.#cli(['list_networks'])).split('\n'));
    const matching = networks.filter((n) => n.ssid === ssid);
    for (const n of matching) await this.#cli(['remove_network', n.id]);
    if (matching.length > 0) await this.#cli(['save_config']);
  }

  #baseArgs(): string[] {
    return [...(this.#o.ctrlDir ? ['-p', this.#o.ctrlDir] : []), '-i', this.#o.iface];
  }

  #session(): Promise<WpaCliSession> {
    return WpaCliSession.open(this.#o.command ?? 'wpa_cli', this.#baseArgs(), this.#log, this.#o.env);
  }

  async #cli(args: string[]): Promise<string> {
    const result = await execTool(this.#o.command ?? 'wpa_cli', [...this.#baseArgs(), ...args], {
      log: this.#log,
      timeoutMs: 10000,
      env: this.#o.env,
    });
    if (result.code !== 0) {
      throw new AgentError(
        'command_failed',
        `wpa_cli ${args[0]} failed: ${result.stdout.trim() || result.stderr.trim()}`,
      );
    }
    return result.stdout;
  }
}

async function ok(session: WpaCliSession, command: string): Promise<void> {
  const reply = (await session.request(command))[0];
  if (reply !== 'OK') {
    // Never echo the command: it may hold the passphrase.
    throw new AgentError('command_failed', `wpa_cli ${command.split(' ')[0]} answered "${reply ?? ''}"`);
  }
}
