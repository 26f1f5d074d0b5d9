import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonProcess } from '../helpers/daemon.js';
import { Observer } from '../helpers/observer.js';

describe('ipcam-agent sim', () => {
  it('starts its own broker when none listens, prints where things are, and comes online', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sim-'));
    const sim = new DaemonProcess([
      'sim',
      ...['--data-dir', dataDir, '--broker-port', '0', '--ws-port', '0'],
      ...['--console-port', '0', '--rtsp-port', '0', '--softap-port', '0'],
    ]);
    const mqttLine = await sim.stdout.waitFor((l) => l.trim().startsWith('mqtt  '), 'mqtt line');
    const wsLine = await sim.stdout.waitFor((l) => l.trim().startsWith('mqtt over ws'), 'ws line');
    const idLine = await sim.stdout.waitFor((l) => l.trim().startsWith('device id'), 'device id line');
    expect(mqttLine).toContain('(embedded broker)');
    const mqttUrl = /mqtt:\/\/[0-9.]+:\d+/.exec(mqttLine)?.[0] ?? '';
    const wsUrl = /ws:\/\/[0-9.]+:\d+/.exec(wsLine)?.[0] ?? '';
    const deviceId = idLine.trim().split(/\s+/).at(-1) ?? '';
    expect(deviceId).toMatch(/^SIM[0-9A-F]{10}$/);

    // What `mosquitto_sub -t 'cam/v1/#'` shows: online, info, reported state; also over WebSocket.
    for (const url of [mqttUrl, wsUrl]) {
      const watcher = await Observer.connect(url, ['cam/v1/#']);
      const status = await watcher.waitFor(
        (m) => m.topic === `cam/v1/${deviceId}/status`,
        `status via ${url}`,
      );
      expect(status.json().state).toBe('online');
      await watcher.waitFor((m) => m.topic === `cam/v1/${deviceId}/info`, 'info');
      const reported = await watcher.waitFor(
        (m) => m.topic === `cam/v1/${deviceId}/state/reported`,
        'reported',
      );
      expect(reported.json<{ state: { privacyMode: boolean } }>().state.privacyMode).toBe(false);
      await watcher.close();
    }
    expect(await sim.kill('SIGINT')).toEqual({ code: 0, signal: null });
  });

  it('keeps its identity across runs', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sim-'));
    const ids: string[] = [];
    for (let run = 0; run < 2; run += 1) {
      const sim = new DaemonProcess([
        'sim',
        ...['--data-dir', dataDir, '--broker-port', '0', '--ws-port', '0'],
        ...['--console-port', '0', '--rtsp-port', '0', '--softap-port', '0'],
      ]);
      ids.push(await sim.banner('device id'));
      await sim.waitForLog('agent started');
      await sim.kill();
    }
    expect(ids[0]).toBe(ids[1]);
  });
});
