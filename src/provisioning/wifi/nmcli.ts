import { randomBytes } from 'node:crypto';
import { AgentError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { type ExecResult, execTool } from './exec.js';
import { checkPassphrase, checkSsid, strongestPerSsid } from './networks.js';
import { activationFailure, parseKeyValues, parseWifiList, percentToDbm, splitTerse } from './nmcli-parse.js';
import { withSecretFile } from './secret-file.js';
import type { ConnectResult, Network, WifiBackend, WifiCredentials, WifiStatus } from './types.js';

export interface NmcliOptions {
  iface: string;
  /** A 0700 directory where the passwd-file exists for the moment of `connection up`. */
  runtimeDir: string;
  log: Logger;
  command?: string;
  /** nmcli --wait: how long NetworkManager may take to join and get an address. */
  connectTimeoutSeconds?: number;
  env?: NodeJS.ProcessEnv;
}

/** Profiles this agent made; others (a factory or installer profile) are never deleted on success. */
export const PROFILE_PREFIX = 'ipcam-wifi-';

interface Profile {
  name: string;
  uuid: string;
  type: string;
  device: string;
}

/**
 * NetworkManager through nmcli. The passphrase never appears on nmcli's command line: the profile is
 * added without it and `connection up` reads it from a 0600 passwd-file (nmcli(1)), which
 * NetworkManager stores in the system-owned profile once the join succeeds.
 */
export class NmcliBackend implements WifiBackend {
  readonly #o: NmcliOptions;
  readonly #log: Logger;

  constructor(options: NmcliOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'wifi-nmcli' });
  }

  async scan(): Promise<Network[]> {
    const fields = ['-t', '-f', 'SSID,BSSID,CHAN,FREQ,SIGNAL,SECURITY', 'device', 'wifi', 'list'];
    let result = await this.#run([...fields, '--rescan', 'yes', 'ifname', this.#o.iface]);
    // NetworkManager refuses a rescan while one is running; its cached list is then fresh anyway.
    if (result.code !== 0) result = await this.#run([...fields, '--rescan', 'no', 'ifname', this.#o.iface]);
    this.#check(result, 'wifi list');
    return strongestPerSsid(parseWifiList(result.stdout));
  }

  async status(): Promise<WifiStatus | undefined> {
    const device = await this.#run([
      '-t',
      '-f',
      'GENERAL.STATE,IP4.ADDRESS',
      'device',
      'show',
      this.#o.iface,
    ]);
    if (device.code !== 0) return undefined;
    const values = parseKeyValues(device.stdout);
    const ip = values.get('IP4.ADDRESS')?.split('/')[0];
    if (!values.get('GENERAL.STATE')?.startsWith('100') || !ip) return undefined;
    const list = await this.#run([
      '-t',
      '-f',
      'ACTIVE,SSID,SIGNAL',
      'device',
      'wifi',
      'list',
      '--rescan',
      'no',
      'ifname',
      this.#o.iface,
    ]);
    for (const line of list.stdout.split('\n')) {
      const [active, ssid = '', signal = '0'] = splitTerse(line);
      if (active === 'yes') return { ssid, rssi: percentToDbm(Number(signal)), ip };
    }
    return undefined;
  }

  async connect(creds: WifiCredentials): Promise<ConnectResult> {
    const ssidProblem = checkSsid(creds.ssid);
    if (ssidProblem) return { failed: 'ap_not_found', detail: ssidProblem };
    const pass = checkPassphrase(creds.password);
    if (pass.kind === 'invalid') return { failed: 'auth_error', detail: pass.reason };

    const previous = (await this.#profiles(true)).find(
      (p) => p.device === this.#o.iface && p.type === '802-11-wireless',
    );
    const name = `${PROFILE_PREFIX}${randomBytes(4).toString('hex')}`;
    const add = ['connection', 'add', 'type', 'wifi', 'ifname', this.#o.iface, 'con-name', name];
    add.push('autoconnect', 'no', 'ssid', creds.ssid);
    if (pass.kind !== 'open') add.push('802-11-wireless-security.key-mgmt', 'wpa-psk');
    const added = this.#check(await this.#run(add), 'connection add');
    const uuid = /\(([0-9a-f-]{36})\)/i.exec(added.stdout)?.[1];
    if (!uuid)
      throw new AgentError('command_failed', `nmcli connection add: no uuid in ${added.stdout.trim()}`);
    this.#log.info({ ssid: creds.ssid, profile: name, previous: previous?.name }, 'joining Wi-Fi network');

    let outcome: ConnectResult;
    try {
      const up = await this.#activate(uuid, pass.kind === 'open' ? undefined : creds.password);
      outcome = up.code === 0 ? 'connected' : activationFailure(up.code, up.stderr);
    } catch (err) {
      await this.#restore(uuid, previous);
      throw err;
    }
    if (outcome === 'connected') {
      await this.#adopt(uuid);
      this.#log.info({ ssid: creds.ssid }, 'joined Wi-Fi network');
    } else {
      this.#log.warn({ ssid: creds.ssid, ...outcome }, 'could not join Wi-Fi network, going back');
      await this.#restore(uuid, previous);
    }
    return outcome;
  }

  async forget(ssid: string): Promise<void> {
    for (const profile of await this.#profiles(false)) {
      if (profile.type !== '802-11-wireless') continue;
      const got = await this.#run(['-g', '802-11-wireless.ssid', 'connection', 'show', 'uuid', profile.uuid]);
      if (got.code === 0 && splitTerse(got.stdout.replace(/\n$/, '')).join(':') === ssid) {
        await this.#run(['connection', 'delete', 'uuid', profile.uuid]);
      }
    }
  }

  #activate(uuid: string, password: string | undefined): Promise<ExecResult> {
    const wait = this.#o.connectTimeoutSeconds ?? 45;
    const up = ['--wait', String(wait), 'connection', 'up', 'uuid', uuid, 'ifname', this.#o.iface];
    const timeoutMs = (wait + 15) * 1000;
    if (password === undefined) return this.#run(up, timeoutMs);
    return withSecretFile(this.#o.runtimeDir, `802-11-wireless-security.psk:${password}\n`, (file) =>
      this.#run([...up, 'passwd-file', file], timeoutMs),
    );
  }

  /** The new profile is proven: it joins on its own from now on, and our older ones go. */
  async #adopt(uuid: string): Promise<void> {
    await this.#run(['connection', 'modify', 'uuid', uuid, 'connection.autoconnect', 'yes']);
    for (const p of await this.#profiles(false)) {
      if (p.uuid !== uuid && p.name.startsWith(PROFILE_PREFIX)) {
        await this.#run(['connection', 'delete', 'uuid', p.uuid]);
      }
    }
  }

  async #restore(uuid: string, previous: Profile | undefined): Promise<void> {
    await this.#run(['connection', 'delete', 'uuid', uuid]);
    if (!previous) return;
    const back = await this.#run(['connection', 'up', 'uuid', previous.uuid, 'ifname', this.#o.iface], 60000);
    if (back.code !== 0)
      this.#log.error({ profile: previous.name, stderr: back.stderr.trim() }, 'could not rejoin');
  }

  async #profiles(activeOnly: boolean): Promise<Profile[]> {
    const args = ['-t', '-f', 'NAME,UUID,TYPE,DEVICE', 'connection', 'show'];
    if (activeOnly) args.push('--active');
    const result = this.#check(await this.#run(args), 'connection show');
    return result.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((line) => {
        const [name = '', uuid = '', type = '', device = ''] = splitTerse(line);
        return { name, uuid, type, device };
      });
  }

  #run(args: string[], timeoutMs = 30000): Promise<ExecResult> {
    return execTool(this.#o.command ?? 'nmcli', args, { log: this.#log, timeoutMs, env: this.#o.env });
  }

  #check(result: ExecResult, what: string): ExecResult {
    if (result.code === 0) return result;
    const line = result.stderr.trim().split('\n').at(-1) ?? '';
    throw new AgentError('command_failed', `nmcli ${what} failed (exit ${result.code}): ${line}`);
  }
}
