/// <reference lib="dom" />

import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../src/sim/broker.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { SMALL_STREAMS } from '../helpers/media.js';
import { Mosquitto } from '../helpers/mosquitto.js';

interface Reply {
  status: number;
  body: string;
}

/** A raw HTTP request, so that Host and Origin are exactly what a hostile page's browser would send. */
function raw(port: number, path: string, method: string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, setHost: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** A WebSocket handshake for /mqtt; resolves with the status line's code (101 when accepted). */
function upgrade(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/mqtt',
      setHost: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-protocol': 'mqtt',
        ...headers,
      },
    });
    req.once('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

describe('the console with an already running Mosquitto', () => {
  let broker: Mosquitto;
  let sim: DaemonProcess;
  let consoleUrl: string;
  let port: number;
  let deviceId: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    const dataDir = await mkdtemp(join(tmpdir(), 'sim-console-'));
    await writeFile(
      join(dataDir, 'state.json'),
      JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
    );
    sim = new DaemonProcess([
      'sim',
      '--data-dir',
      dataDir,
      '--broker-port',
      String(broker.port),
      '--ws-port',
      '0',
      '--console-port',
      '0',
      '--rtsp-port',
      '0',
    ]);
    consoleUrl = await sim.banner('console');
    port = Number(new URL(consoleUrl).port);
    deviceId = await sim.banner('device id');
    expect(await sim.banner('mqtt')).toBe(`mqtt://127.0.0.1:${broker.port}`);
    await sim.waitForLog('agent started');
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sim?.kill();
    await broker?.stop();
  });

  it("carries MQTT over WebSocket on the console's own port (mqtt.js)", async () => {
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${port}/mqtt`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    const status = new Promise<Record<string, unknown>>((resolve) =>
      client.on('message', (topic, payload) => {
        if (topic === `cam/v1/${deviceId}/status`) resolve(JSON.parse(payload.toString()));
      }),
    );
    await client.subscribeAsync(`cam/v1/${deviceId}/status`, { qos: 1 });
    expect(await status).toMatchObject({ state: 'online' });
    await client.endAsync();
  });

  it('shows the camera online and plays the live view in Chromium through that bridge', async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    const page = await browser.newPage();
    const socketErrors: string[] = [];
    page.on('console', (message) => {
      if (message.text().includes('WebSocket')) socketErrors.push(message.text());
    });
    await page.goto(consoleUrl);
    await page.waitForSelector('#status.status-online', { timeout: 20000 });
    await page.click('#live');
    await page.waitForFunction(
      () => (document.getElementById('video') as HTMLVideoElement).videoWidth > 0,
      undefined,
      { timeout: 30000 },
    );
    expect(socketErrors).toEqual([]);
    await page.click('#stop');
    await sim.stdout.waitFor(
      (line) => line.includes('"msg":"webrtc session closed"') && line.includes('closed_by_viewer'),
      "the page's close, with its token, honoured",
    );
    await page.close();
  }, 90_000);

  it('refuses foreign Origins and rebinding Hosts with 403, and logs it', async () => {
    const host = `127.0.0.1:${port}`;
    const evil = 'http://evil.example';
    // CSRF: another site's page presses the reset button or mints a talk token.
    expect(
      await raw(port, '/api/hardware?hold=button&ms=6000', 'POST', { host, origin: evil }),
    ).toMatchObject({
      status: 403,
    });
    expect(await raw(port, '/api/token?rights=live,talk', 'POST', { host, origin: evil })).toMatchObject({
      status: 403,
    });
    expect(await raw(port, '/api/bind-token', 'POST', { host, origin: 'null' })).toMatchObject({
      status: 403,
    });
    // DNS rebinding: evil.example now resolves to 127.0.0.1, and the browser says so in Host.
    expect(await raw(port, '/api/info', 'GET', { host: `evil.example:${port}` })).toMatchObject({
      status: 403,
    });
    expect(
      await raw(port, '/api/token', 'POST', {
        host: `evil.example:${port}`,
        origin: `http://evil.example:${port}`,
      }),
    ).toMatchObject({ status: 403 });
    // The WebSocket to the broker, from another site's page or a rebound name.
    expect(await upgrade(port, { host, origin: evil })).toBe(403);
    expect(await upgrade(port, { host: `evil.example:${port}`, origin: `http://evil.example:${port}` })).toBe(
      403,
    );
    await sim.waitForLog('console request refused');
    // The button was not pressed.
    const levels = JSON.parse((await raw(port, '/api/hardware', 'GET', { host })).body) as { button: number };
    expect(levels.button).toBe(1);

    // Its own page, and tools without an Origin, are served; a token is minted by POST only.
    expect(await raw(port, '/api/info', 'GET', { host: `localhost:${port}` })).toMatchObject({ status: 200 });
    const token = await raw(port, '/api/token?rights=live', 'POST', { host, origin: `http://${host}` });
    expect(token.status).toBe(200);
    expect(token.body.split('.')).toHaveLength(3);
    expect(await raw(port, '/api/token', 'GET', { host })).toMatchObject({ status: 405 });
    // A bind token too: an <img> on any page could otherwise make the simulator issue them.
    expect(await raw(port, '/api/bind-token', 'GET', { host })).toMatchObject({ status: 405 });
    expect(await upgrade(port, { host, origin: `http://${host}` })).toBe(101);
    expect(sim.child.exitCode).toBeNull();
  });
});

describe("the embedded broker's own WebSocket listener", () => {
  it('refuses foreign Origins and rebinding Hosts; tools and local pages connect', async () => {
    const broker = await startEmbeddedBroker('127.0.0.1', 0, 0);
    try {
      const host = `127.0.0.1:${broker.wsPort}`;
      expect(await upgrade(broker.wsPort, { host, origin: 'http://evil.example' })).toBe(403);
      expect(await upgrade(broker.wsPort, { host, origin: 'null' })).toBe(403);
      expect(await upgrade(broker.wsPort, { host: `evil.example:${broker.wsPort}` })).toBe(403);
      expect(await upgrade(broker.wsPort, { host, origin: 'http://localhost:3000' })).toBe(101);
      const client = await mqtt.connectAsync(`ws://${host}`, { protocolVersion: 5, reconnectPeriod: 0 });
      await client.endAsync();
    } finally {
      await broker.close();
    }
  });
});
