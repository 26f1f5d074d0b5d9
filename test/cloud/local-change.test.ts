import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/app/agent.js';
import { startAgentInProcess } from '../helpers/agent.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';

// A change made on the local network (ONVIF, Home Assistant) goes the way of desired state: validated
// key by key, saved, announced, and reported so the cloud sees it.
describe('local settings changes (state.applyLocal)', () => {
  let broker: Mosquitto;
  let observer: Observer;
  let agent: Agent;
  let serial: string;
  let dataDir: string;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    ({ agent, serial, dataDir } = await startAgentInProcess({ url: broker.url }));
    observer = await Observer.connect(broker.url, [`cam/v1/${serial}/state/reported`]);
    await observer.waitFor(() => true, 'the first reported state');
  });
  afterAll(async () => {
    await agent.lifecycle.stop();
    await observer.close();
    await broker.stop();
  });

  it('applies valid keys, rejects the rest, saves, and reports with where the change came from', async () => {
    const reported = observer.next(
      (m) => (m.json() as { local?: { source?: string } }).local?.source === 'onvif',
      'reported after the local change',
    );
    const result = await agent.state.applyLocal(
      { nightMode: 'on', stream: { sub: { fps: 10 } }, colour: 'blue', motion: { sensitivity: 500 } },
      'onvif',
    );
    expect(result.applied.sort()).toEqual(['nightMode', 'stream']);
    expect(result.rejected.map((r) => r.key).sort()).toEqual(['colour', 'motion.sensitivity']);
    expect(agent.state.settings.nightMode).toBe('on');
    expect(agent.state.settings.stream.sub.fps).toBe(10);

    const body = (await reported).json<{
      version: number;
      state: { nightMode: string; stream: { sub: { fps: number } } };
      local: { applied: string[] };
    }>();
    expect(body.state.nightMode).toBe('on');
    expect(body.state.stream.sub.fps).toBe(10);
    expect(body.local.applied.sort()).toEqual(['nightMode', 'stream']);
    // The desired version stays the cloud's: a local change is not a document.
    expect(body.version).toBe(0);

    const saved = JSON.parse(await readFile(join(dataDir, 'state.json'), 'utf8'));
    expect(saved.settings.nightMode).toBe('on');
  });

  it('keeps a password out of state and reported, in the secret store', async () => {
    const reported = observer.next(
      (m) => (m.json() as { local?: { source?: string } }).local?.source === 'homeassistant',
      'reported after the password',
    );
    await agent.state.applyLocal(
      { homeAssistant: { broker: 'mqtt://192.168.1.5:1883', username: 'cam', password: 's3cret-local' } },
      'homeassistant',
    );
    const text = (await reported).payload.toString();
    expect(text).not.toContain('s3cret-local');
    expect(JSON.parse(text).state.homeAssistant).toMatchObject({ username: 'cam', passwordSet: true });
    expect(await readFile(join(dataDir, 'state.json'), 'utf8')).not.toContain('s3cret-local');
    expect(agent.store.get('homeAssistant.password')).toBe('s3cret-local');
    // Credentials inside the broker URL would be reported in clear: refused, named by its key.
    const inUrl = await agent.state.applyLocal(
      { homeAssistant: { broker: 'mqtt://cam:s3cret@192.168.1.5:1883' } },
      'homeassistant',
    );
    expect(inUrl.rejected).toEqual([
      expect.objectContaining({ key: 'homeAssistant.broker', code: 'invalid_value' }),
    ]);
  });
});
