/**
 * A provisioning client for the tests, behaving like Espressif's: esp_prov over one kept-alive HTTP
 * connection without cookies, or the phone apps' style, a new connection per request carrying the
 * `session` cookie. Security 2 handshake, AES-256-GCM with the shared nonce counter, and the
 * WiFiConfig / WiFiScan / WiFiCtrl / cloud-bind messages, all built with the client's own protobuf.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Agent, request } from 'node:http';
import { type PbField, pbBytes, pbDecode, pbEncode, pbInt, pbSub } from './pb.js';
import { Srp6aClient } from './srp6a.js';

export interface HttpReply {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly text: string,
  ) {
    super(`HTTP ${status}: ${text.trim()}`);
  }
}

export function post(
  baseUrl: string,
  path: string,
  body: Uint8Array | string,
  options: {
    agent?: Agent | false;
    cookie?: string;
    headers?: Record<string, string>;
    /** Another loopback address (127.0.0.2...) stands for another device on the AP. */
    localAddress?: string;
  } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}${path}`,
      {
        method: 'POST',
        agent: options.agent ?? false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'text/plain',
          ...(options.cookie ? { cookie: options.cookie } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface ScanEntry {
  ssid: string;
  channel: number;
  rssi: number;
  bssid: string;
  auth: number;
}

export interface WifiStatusReply {
  status: number;
  staState: number;
  failReason: number | undefined;
  connected?: { ip4: string; auth: number; ssid: string; bssid: string; channel: number };
}

/** SessionData for Security 2 with SessionCmd0: the username and the client's public key A. */
export function sessionCommand0(username: string, publicKey: Uint8Array): Buffer {
  return pbEncode([
    [2, 'int', 2],
    [
      12,
      'msg',
      [
        [1, 'int', 0],
        [
          20,
          'msg',
          [
            [1, 'bytes', username],
            [2, 'bytes', publicKey],
          ],
        ],
      ],
    ],
  ]);
}

export class ProvClient {
  readonly #baseUrl: string;
  readonly #mode: 'socket' | 'cookie';
  readonly #agent: Agent | undefined;
  readonly #localAddress: string | undefined;
  #cookie: string | undefined;
  #key: Buffer | undefined;
  #nonce: Buffer | undefined;

  constructor(
    baseUrl: string,
    mode: 'socket' | 'cookie' = 'socket',
    options: { localAddress?: string } = {},
  ) {
    this.#baseUrl = baseUrl;
    this.#mode = mode;
    this.#localAddress = options.localAddress;
    this.#agent = mode === 'socket' ? new Agent({ keepAlive: true, maxSockets: 1 }) : undefined;
  }

  /** The `session=<id>` this client was given (what a sniffer on the open AP would see). */
  get cookie(): string | undefined {
    return this.#cookie;
  }

  close(): void {
    this.#agent?.destroy();
  }

  async send(endpoint: string, body: Uint8Array | string): Promise<Buffer> {
    const reply = await post(this.#baseUrl, `/${endpoint}`, body, {
      agent: this.#agent ?? false,
      ...(this.#localAddress ? { localAddress: this.#localAddress } : {}),
      ...(this.#mode === 'cookie' && this.#cookie ? { cookie: this.#cookie } : {}),
    });
    const setCookie = reply.headers['set-cookie']?.[0];
    if (setCookie) this.#cookie = setCookie.split(';')[0];
    if (reply.status !== 200) throw new HttpError(reply.status, reply.body.toString());
    return reply.body;
  }

  async protoVersion(): Promise<
    { prov: { ver: string; sec_ver: number; sec_patch_ver?: number; cap: string[] } } & Record<
      string,
      unknown
    >
  > {
    return JSON.parse((await this.send('proto-ver', '---')).toString('latin1'));
  }

  /** Runs the Security 2 handshake; rejects with HttpError when the device refuses. */
  async establishSession(password: string, username = 'wifiprov'): Promise<void> {
    const srp = new Srp6aClient(username, password);
    const cmd0 = sessionCommand0(username, srp.publicKey);
    const resp0 = pbDecode(await this.send('prov-session', cmd0));
    if (pbInt(resp0, 2) !== 2) throw new Error('device answered with another security scheme');
    const sr0 = pbSub(pbSub(resp0, 12) ?? pbDecode(Buffer.alloc(0)), 21);
    const B = sr0 && pbBytes(sr0, 2);
    const salt = sr0 && pbBytes(sr0, 3);
    if (!B || !salt) throw new Error('response 0 lacks B or salt');
    const proof = srp.processChallenge(salt, B);
    if (!proof) throw new Error('unsafe B');
    const cmd1 = pbEncode([
      [2, 'int', 2],
      [
        12,
        'msg',
        [
          [1, 'int', 2],
          [22, 'msg', [[1, 'bytes', proof]]],
        ],
      ],
    ]);
    const resp1 = pbDecode(await this.send('prov-session', cmd1));
    const sr1 = pbSub(pbSub(resp1, 12) ?? pbDecode(Buffer.alloc(0)), 23);
    const hamk = sr1 && pbBytes(sr1, 2);
    const nonce = sr1 && pbBytes(sr1, 3);
    if (!hamk || !nonce || !srp.verifySession(hamk) || !srp.sessionKey) throw new Error('device proof wrong');
    this.#key = srp.sessionKey.subarray(0, 32);
    this.#nonce = Buffer.from(nonce);
  }

  #bump(): void {
    const nonce = this.#nonce as Buffer;
    nonce.writeUInt32BE((nonce.readUInt32BE(8) + 1) >>> 0, 8);
  }

  encrypt(plain: Uint8Array): Buffer {
    if (!this.#key || !this.#nonce) throw new Error('no session');
    const cipher = createCipheriv('aes-256-gcm', this.#key, this.#nonce);
    const out = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    this.#bump();
    return out;
  }

  decrypt(data: Buffer): Buffer {
    if (!this.#key || !this.#nonce) throw new Error('no session');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, this.#nonce);
    decipher.setAuthTag(data.subarray(data.length - 16));
    const out = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
    this.#bump();
    return out;
  }

  async call(endpoint: string, message: PbField[]): Promise<ReturnType<typeof pbDecode>> {
    return pbDecode(this.decrypt(await this.send(endpoint, this.encrypt(pbEncode(message)))));
  }

  async scan(): Promise<ScanEntry[]> {
    const start = await this.call('prov-scan', [
      [1, 'int', 0],
      [
        10,
        'msg',
        [
          [1, 'int', 1],
          [3, 'int', 5],
        ],
      ],
    ]);
    if (pbInt(start, 1) !== 1 || pbInt(start, 2) !== 0) throw new Error('scan start failed');
    const status = await this.call('prov-scan', [
      [1, 'int', 2],
      [12, 'msg', []],
    ]);
    const count = pbInt(pbSub(status, 13) ?? pbDecode(Buffer.alloc(0)), 2);
    const entries: ScanEntry[] = [];
    for (let index = 0; index < count; index += 4) {
      const reply = await this.call('prov-scan', [
        [1, 'int', 4],
        [
          14,
          'msg',
          [
            [1, 'int', index],
            [2, 'int', Math.min(4, count - index)],
          ],
        ],
      ]);
      for (const raw of pbSub(reply, 15)?.blobs.get(1) ?? []) {
        const entry = pbDecode(raw);
        entries.push({
          ssid: pbBytes(entry, 1)?.toString() ?? '',
          channel: pbInt(entry, 2),
          rssi: pbInt(entry, 3),
          bssid: [...(pbBytes(entry, 4) ?? [])].map((b) => b.toString(16).padStart(2, '0')).join(':'),
          auth: pbInt(entry, 5),
        });
      }
    }
    return entries;
  }

  async setConfig(ssid: string, passphrase: string): Promise<number> {
    const reply = await this.call('prov-config', [
      [1, 'int', 2],
      [
        12,
        'msg',
        [
          [1, 'bytes', ssid],
          [2, 'bytes', passphrase],
        ],
      ],
    ]);
    if (pbInt(reply, 1) !== 3) throw new Error('not a RespSetConfig');
    return pbInt(pbSub(reply, 13) ?? pbDecode(Buffer.alloc(0)), 1);
  }

  async applyConfig(): Promise<number> {
    const reply = await this.call('prov-config', [
      [1, 'int', 4],
      [14, 'msg', []],
    ]);
    if (pbInt(reply, 1) !== 5) throw new Error('not a RespApplyConfig');
    return pbInt(pbSub(reply, 15) ?? pbDecode(Buffer.alloc(0)), 1);
  }

  async getStatus(): Promise<WifiStatusReply> {
    const reply = await this.call('prov-config', [
      [1, 'int', 0],
      [10, 'msg', []],
    ]);
    if (pbInt(reply, 1) !== 1) throw new Error('not a RespGetStatus');
    const resp = pbSub(reply, 11) ?? pbDecode(Buffer.alloc(0));
    const connected = pbSub(resp, 11);
    return {
      status: pbInt(resp, 1),
      staState: pbInt(resp, 2),
      failReason: resp.ints.has(10) ? pbInt(resp, 10) : undefined,
      ...(connected
        ? {
            connected: {
              ip4: pbBytes(connected, 1)?.toString() ?? '',
              auth: pbInt(connected, 2),
              ssid: pbBytes(connected, 3)?.toString() ?? '',
              bssid: [...(pbBytes(connected, 4) ?? [])].map((b) => b.toString(16).padStart(2, '0')).join(':'),
              channel: pbInt(connected, 5),
            },
          }
        : {}),
    };
  }

  async ctrl(command: 'reset' | 'reprov'): Promise<number> {
    const reply = await this.call('prov-ctrl', [
      [1, 'int', command === 'reset' ? 1 : 3],
      [command === 'reset' ? 11 : 13, 'msg', []],
    ]);
    return pbInt(reply, 2);
  }

  async sendBind(token: string, region: string): Promise<number> {
    const reply = await this.call('cloud-bind', [
      [1, 'int', 0],
      [
        10,
        'msg',
        [
          [1, 'bytes', token],
          [2, 'bytes', region],
        ],
      ],
    ]);
    if (pbInt(reply, 1) !== 1) throw new Error('not a RespSetBind');
    return pbInt(pbSub(reply, 11) ?? pbDecode(Buffer.alloc(0)), 1);
  }

  async bindStatus(): Promise<{ status: number; state: number; error: string }> {
    const reply = await this.call('cloud-bind', [
      [1, 'int', 2],
      [12, 'msg', []],
    ]);
    if (pbInt(reply, 1) !== 3) throw new Error('not a RespGetBindStatus');
    const resp = pbSub(reply, 13) ?? pbDecode(Buffer.alloc(0));
    return { status: pbInt(resp, 1), state: pbInt(resp, 2), error: pbBytes(resp, 3)?.toString() ?? '' };
  }
}
