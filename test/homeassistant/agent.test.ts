import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/app/agent.js';
import { startAgentInProcess } from '../helpers/agent.js';
import type { LineLog } from '../helpers/lines.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';
import { freePort } from '../helpers/ports.js';
import { EXPECTED_ENTITIES } from './discovery-schema.js';
import { retainedUnder } from './retained.js';

const PASSWORD = 'ha-broker-s3cret';

// The owner's own broker is not the cloud's: two Mosquittos, and nothing crosses between them.
describe('Home Assistant link beside the cloud link', () => {
  let cloudBroker: Mosquitto;
  let haBroker: Mosquitto;
  let cloud: Observer;
  let ha: Observer;
  let agent: Agent;
  let logs: LineLog;
  let serial: string;
  let stopped = false;

  const configTopics = () =>
    EXPECTED_ENTITIES.map((e) => {
      const [component, object] = e.split('/');
      return `homeassistant/${component}/${serial}/${object}/config`;
    });

  beforeAll(async () => {
    cloudBroker = await Mosquitto.start();
    haBroker = await Mosquitto.start({ debug: true });
    ({ agent, logs, serial } = await startAgentInProcess({ url: cloudBroker.url }));
    cloud = await Observer.connect(cloudBroker.url, ['#']);
    ha = await Observer.connect(haBroker.url, ['#']);
    await cloud.waitFor((m) => m.topic === `cam/v1/${serial}/state/reported`, 'first reported state');
    const reported = cloud.next(
      (m) => m.topic === `cam/v1/${serial}/state/reported` && m.json().version === 1,
      'reported v1',
    );
    await cloud.client.publishAsync(
      `cam/v1/${serial}/state/desired`,
      JSON.stringify({
        version: 1,
        state: {
          homeAssistant: { enabled: true, broker: haBroker.url, username: 'camera', password: PASSWORD },
        },
      }),
      { qos: 1, retain: true },
    );
    await reported;
  });
  afterAll(async () => {
    if (!stopped) await agent.lifecycle.stop();
    await cloud.close();
    await ha.close();
    await cloudBroker.stop();
    await haBroker.stop();
  });

  it('announces on the owner broker only; the cloud broker carries none of it, and no secret is logged', async () => {
    for (const t of configTopics()) await ha.waitFor((m) => m.topic === t, t);
    const firmware = await ha.waitFor((m) => m.topic === `ipcam/${serial}/firmware/state`, 'firmware state');
    // No job from the cloud yet: nothing newer than what runs.
    expect(firmware.json()).toEqual({ installed_version: '1.4.2', latest_version: '1.4.2' });
    expect(ha.seen.filter((m) => !/^(homeassistant|ipcam)\//.test(m.topic))).toEqual([]);
    expect(cloud.seen.filter((m) => /^(homeassistant|ipcam)\//.test(m.topic))).toEqual([]);
    const reported = cloud.seen.filter((m) => m.topic === `cam/v1/${serial}/state/reported`).at(-1);
    expect(reported?.json()).toMatchObject({
      state: { homeAssistant: { enabled: true, broker: haBroker.url, passwordSet: true } },
    });
    expect(reported?.payload.toString()).not.toContain(PASSWORD);
    expect(logs.lines.filter((l) => l.includes(PASSWORD))).toEqual([]);
  });

  it('says online on the owner broker only once its commands are subscribed', async () => {
    await ha.waitFor((m) => m.topic === `ipcam/${serial}/availability`, 'availability');
    const received = haBroker.log.lines.filter((l) => l.includes('Received '));
    const birth = received.find((l) => l.includes(`'ipcam/${serial}/availability'`));
    const client = / from (\S+) /.exec(birth ?? '')?.[1];
    expect(client).toBeDefined();
    const subscribeAt = received.findIndex((l) => l.includes(`Received SUBSCRIBE from ${client}`));
    expect(subscribeAt).toBeGreaterThanOrEqual(0);
    expect(subscribeAt).toBeLessThan(received.indexOf(birth ?? ''));
  });

  it('comes back after the owner broker restarts, announcing again', async () => {
    const connects = () =>
      logs.lines.filter((l) => l.includes('"msg":"connected to the home assistant broker"'));
    const before = connects().length;
    await haBroker.pause();
    await haBroker.resume();
    // The agent connects again by itself (its reconnect schedule), and says so.
    await logs.waitFor(
      (l) => l.includes('"msg":"connected to the home assistant broker"') && connects().length > before,
      'the link back',
      30000,
    );
    // Its birth makes the retained availability `online` again (the broker's restart may have left the
    // last will's `offline` there), and its discovery follows the birth.
    const deadline = Date.now() + 15000;
    let availability: string[] = [];
    for (;;) {
      availability = (await retainedUnder(haBroker.url, `ipcam/${serial}/availability`)).map((m) =>
        m.payload.toString(),
      );
      if (availability[0] === 'online' || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(availability).toEqual(['online']);
    const configs = await retainedUnder(haBroker.url, 'homeassistant/#');
    expect(configs.map((m) => m.topic).sort()).toEqual(expect.arrayContaining(configTopics().sort()));
  });

  it('announces again when Home Assistant restarts (its birth message); hostile commands are refused', async () => {
    const again = ha.next((m) => m.topic === configTopics()[0], 'discovery after the birth');
    await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await again;
    const before = agent.state.settings.privacyMode;
    await ha.client.publishAsync(`ipcam/${serial}/privacy/set`, Buffer.alloc(1000, 0x4f), { qos: 1 });
    await logs.waitFor(
      (l) => l.includes('home assistant command ignored') && l.includes('1000 bytes'),
      'refusal',
    );
    // Past the link's maximum packet size the broker does not even deliver it.
    await ha.client.publishAsync(`ipcam/${serial}/privacy/set`, Buffer.alloc(64 * 1024, 0x4f), { qos: 1 });
    await ha.client.publishAsync(`ipcam/${serial}/night_mode/set`, 'bright', { qos: 1 });
    await logs.waitFor((l) => l.includes('night mode must be one of'), 'select refusal');
    // Messages arrive in order: had the big one been delivered, its refusal would be logged by now.
    expect(logs.lines.filter((l) => l.includes('65536 bytes'))).toEqual([]);
    expect(agent.state.settings.privacyMode).toBe(before);
    expect(agent.state.settings.nightMode).toBe('auto');
  });

  it('a factory reset removes every discovery config and state from the owner broker', async () => {
    const answer = await cloud.request(`cam/v1/${serial}/cmd/factoryReset`, {});
    expect(answer).toMatchObject({ ok: true });
    // As the daemon does: the agent stops, then the data directory is erased.
    expect(await agent.exitRequested).toEqual({ kind: 'factory-reset' });
    const offline = ha.next(
      (m) => m.topic === configTopics()[0] && m.payload.length === 0,
      'configs removed',
    );
    stopped = true;
    await agent.lifecycle.stop();
    await offline;
    expect(await retainedUnder(haBroker.url, 'homeassistant/#')).toEqual([]);
    expect(await retainedUnder(haBroker.url, `ipcam/${serial}/#`)).toEqual([]);
  });
});

describe('Home Assistant broker unreachable', () => {
  it('the agent runs on, retrying with backoff, and stops cleanly', async () => {
    const cloudBroker = await Mosquitto.start();
    const closed = await freePort();
    const { agent, logs } = await startAgentInProcess({ url: cloudBroker.url });
    try {
      await agent.state.applyLocal(
        { homeAssistant: { enabled: true, broker: `mqtt://127.0.0.1:${closed}` } },
        'test',
      );
      await logs.waitFor(
        (l) => l.includes('reconnecting to home assistant') && l.includes('"attempt":2'),
        'retries',
      );
      expect(agent.link.connected).toBe(true);
    } finally {
      await agent.lifecycle.stop();
      await cloudBroker.stop();
    }
    expect(logs.lines.filter((l) => l.includes('could not be removed'))).toEqual([]);
  });
});
