import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineLog } from './lines.js';
import { freePort } from './ports.js';

export interface TlsListener {
  port: number;
  caFile: string;
  certFile: string;
  keyFile: string;
  requireClientCert: boolean;
}

/**
 * A real Mosquitto for one test suite: a plain listener on loopback for the test's observers, an
 * optional TLS listener for the device, persistence on so that sessions survive a broker restart.
 */
export class Mosquitto {
  readonly log = new LineLog();
  port = 0;
  #child: ChildProcess | undefined;
  #dir = '';
  #tls: TlsListener | undefined;
  #wsPort: number | undefined;
  #acl = false;
  #debug = false;

  /**
   * `acl`: the text of a Mosquitto ACL file (lines before any `user` line apply to anonymous clients,
   * which the device and the observers are), e.g. `topic deny cam/v1/+/evt/motion` then
   * `topic readwrite #`. Without it, everything is allowed. `debug`: the log has every packet received
   * (`Received SUBSCRIBE from <client id>`), in the order the broker handled them.
   */
  static async start(
    options: { tls?: Omit<TlsListener, 'port'>; acl?: string; debug?: boolean; websockets?: boolean } = {},
  ): Promise<Mosquitto> {
    const broker = new Mosquitto();
    broker.#debug = options.debug ?? false;
    broker.#dir = await mkdtemp(join(tmpdir(), 'mosq-'));
    broker.port = await freePort();
    if (options.tls) broker.#tls = { ...options.tls, port: await freePort() };
    if (options.websockets) broker.#wsPort = await freePort();
    if (options.acl !== undefined) await broker.setAcl(options.acl);
    await broker.#writeConfig();
    await broker.resume();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** MQTT over WebSocket (`protocol websockets`), plain, on loopback. */
  get wsPort(): number {
    if (this.#wsPort === undefined) throw new Error('no WebSocket listener');
    return this.#wsPort;
  }

  get tlsPort(): number {
    if (!this.#tls) throw new Error('no TLS listener');
    return this.#tls.port;
  }

  /** Replaces the ACL file; Mosquitto reads it at its next start (pause() then resume()). */
  async setAcl(text: string): Promise<void> {
    this.#acl = true;
    await writeFile(join(this.#dir, 'acl'), `${text}\n`);
  }

  /** Starts (again) on the same ports and state; resolves when it listens. */
  async resume(): Promise<void> {
    const child = spawn('mosquitto', ['-c', join(this.#dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.log.attach(child.stderr);
    this.log.attach(child.stdout);
    const starts = this.log.lines.filter((l) => l.includes(' running')).length;
    let seen = 0;
    await this.log.waitFor((line) => line.includes(' running') && ++seen > starts, 'mosquitto to run');
  }

  /** A clean broker stop (SIGTERM): Mosquitto saves its sessions, as a real broker restart would. */
  async pause(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const closed = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGTERM');
    await closed;
  }

  async stop(): Promise<void> {
    await this.pause();
  }

  async #writeConfig(): Promise<void> {
    const lines = [
      'per_listener_settings false',
      // Run as root (CI), Mosquitto would drop to the mosquitto user, who cannot read our 0700 temp dirs.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${this.#dir}/`,
      'autosave_interval 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      ...(this.#debug ? ['log_type debug'] : []),
      ...(this.#acl ? [`acl_file ${join(this.#dir, 'acl')}`] : []),
      `listener ${this.port} 127.0.0.1`,
    ];
    if (this.#tls) {
      const tls = this.#tls;
      lines.push(
        `listener ${tls.port} 127.0.0.1`,
        `cafile ${tls.caFile}`,
        `certfile ${tls.certFile}`,
        `keyfile ${tls.keyFile}`,
        `require_certificate ${tls.requireClientCert}`,
        'use_identity_as_username false',
      );
    }
    if (this.#wsPort !== undefined) lines.push(`listener ${this.#wsPort} 127.0.0.1`, 'protocol websockets');
    await writeFile(join(this.#dir, 'mosquitto.conf'), `${lines.join('\n')}\n`);
  }
}
