import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simDataDir, startSim } from '../hardening/sim-process.js';
import { useBroker } from '../helpers/broker-fixture.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { Observer, type Seen } from '../helpers/observer.js';
import { EXPECTED_ENTITIES, missingKeys, PLATFORMS } from './discovery-schema.js';
import { retainedUnder } from './retained.js';

async function snapshotsIn(dataDir: string): Promise<string[]> {
  return (await readdir(join(dataDir, 'media', 'snapshots')).catch(() => [])).sort();
}

// The simulator: Home Assistant discovery is on by default and goes to the simulator's broker
// (contract section 6). Its test pattern's object crosses the picture in the first 8 s of every 16 s.
describe('Home Assistant through the simulator', () => {
  const cloud = useBroker(['cam/v1/#']);
  let ha: Observer;
  let sim: DaemonProcess;
  let deviceId: string;
  let dataDir: string;
  let desiredVersion = 0;
  const config = (m: Seen) => m.topic.startsWith('homeassistant/') && m.topic.endsWith('/config');

  beforeAll(async () => {
    ha = await Observer.connect(cloud.broker.url, ['homeassistant/#', 'ipcam/#']);
    dataDir = await simDataDir('ha-sim', { media: true });
    sim = startSim(dataDir, cloud.broker.port);
    deviceId = await sim.banner('device id', 30000);
  });
  afterAll(async () => {
    await sim?.kill();
    await ha?.close();
  });

  const topic = (rest: string) => `ipcam/${deviceId}/${rest}`;
  const desire = async (state: Record<string, unknown>) => {
    desiredVersion += 1;
    const version = desiredVersion;
    const reported = cloud.observer.next(
      (m) => m.topic === `cam/v1/${deviceId}/state/reported` && m.json().version === version,
      `reported v${version}`,
    );
    await cloud.observer.client.publishAsync(
      `cam/v1/${deviceId}/state/desired`,
      JSON.stringify({ version, state }),
      { qos: 1, retain: true },
    );
    await reported;
  };

  it('announces every entity, retained, complete per the documented schema of its platform', async () => {
    await ha.waitFor(
      (m) => m.topic === topic('availability') && m.payload.toString() === 'online',
      'online',
      30000,
    );
    for (const entity of EXPECTED_ENTITIES) {
      const [component, object] = entity.split('/');
      await ha.waitFor((m) => m.topic === `homeassistant/${component}/${deviceId}/${object}/config`, entity);
    }
    const retained = (await retainedUnder(cloud.broker.url, 'homeassistant/#')).filter(config);
    expect(retained.map((m) => m.topic.split('/').slice(1, 4).join('/')).sort()).toEqual(
      EXPECTED_ENTITIES.map((e) => {
        const [component, object] = e.split('/');
        return `${component}/${deviceId}/${object}`;
      }).sort(),
    );
    const uniqueIds = new Set<string>();
    for (const m of retained) {
      const component = m.topic.split('/')[1] ?? '';
      const payload = m.json();
      expect(missingKeys(component, payload), `${m.topic} (${PLATFORMS[component]?.doc})`).toEqual([]);
      uniqueIds.add(payload.unique_id as string);
      expect(payload.device).toMatchObject({ identifiers: [deviceId], manufacturer: 'ipcam-agent' });
      expect(payload.availability_topic).toBe(topic('availability'));
    }
    expect(uniqueIds.size).toBe(retained.length);
    // The states the entities read are there, retained. They are published after the configs: each is
    // awaited first (a dry run read the retained states a moment too early once).
    for (const state of ['privacy', 'alarm_pictures', 'night_mode', 'storage', 'firmware'])
      await ha.waitFor((m) => m.topic === topic(`${state}/state`), `${state}/state`, 30000);
    const states = await retainedUnder(cloud.broker.url, `ipcam/${deviceId}/#`);
    const value = (t: string) => states.find((m) => m.topic === topic(t))?.payload.toString();
    expect(value('privacy/state')).toBe('OFF');
    expect(value('alarm_pictures/state')).toBe('ON');
    expect(value('night_mode/state')).toBe('auto');
    expect(value('storage/state')).toBe('ok');
    expect(JSON.parse(value('firmware/state') ?? '{}')).toHaveProperty('installed_version');
  });

  it('turns the motion binary sensor ON and OFF as the object crosses, and shows the alarm picture', async () => {
    const on = await ha.waitFor(
      (m) => m.topic === topic('motion/state') && m.payload.toString() === 'ON',
      'motion ON',
      60000,
    );
    const from = ha.seen.indexOf(on);
    await ha.waitFor(
      (m) => ha.seen.indexOf(m) > from && m.topic === topic('motion/state') && m.payload.toString() === 'OFF',
      'motion OFF',
      60000,
    );
    const picture = await ha.waitFor(
      (m) => m.topic === topic('camera/image') && m.payload.length > 0,
      'picture',
      60000,
    );
    expect(picture.payload.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(
      picture.retain || (await retainedUnder(cloud.broker.url, topic('camera/image'))).length === 1,
    ).toBe(true);
  });

  it('a switch command flips privacy through the settings path; the cloud sees the reported change', async () => {
    const reported = cloud.observer.next(
      (m) =>
        m.topic === `cam/v1/${deviceId}/state/reported` &&
        (m.json() as { state: { privacyMode: boolean }; local?: { source: string } }).state.privacyMode ===
          true,
      'reported privacyMode true',
    );
    const state = ha.next(
      (m) => m.topic === topic('privacy/state') && m.payload.toString() === 'ON',
      'privacy ON',
    );
    // In privacy mode there is no picture: the retained one is removed.
    const cleared = ha.next(
      (m) => m.topic === topic('camera/image') && m.payload.length === 0,
      'picture removed',
    );
    await ha.client.publishAsync(topic('privacy/set'), 'ON', { qos: 1 });
    const body = (await reported).json<{ local: { source: string; applied: string[] } }>();
    expect(body.local).toMatchObject({ source: 'homeassistant', applied: ['privacyMode'] });
    await state;
    await cleared;
    expect(await retainedUnder(cloud.broker.url, topic('camera/image'))).toEqual([]);

    // Anything but ON/OFF is refused with a log line; nothing changes.
    await ha.client.publishAsync(topic('privacy/set'), 'MAYBE', { qos: 1 });
    await sim.waitForLog('home assistant command ignored');
    await ha.client.publishAsync(topic('night_mode/set'), 'sometimes', { qos: 1 });
    await sim.stdout.waitFor((l) => l.includes('night mode must be one of'), 'select refusal');

    const off = ha.next(
      (m) => m.topic === topic('privacy/state') && m.payload.toString() === 'OFF',
      'privacy OFF',
    );
    await ha.client.publishAsync(topic('privacy/set'), 'OFF', { qos: 1 });
    await off;
    const night = ha.next(
      (m) => m.topic === topic('night_mode/state') && m.payload.toString() === 'on',
      'night on',
    );
    await ha.client.publishAsync(topic('night_mode/set'), 'on', { qos: 1 });
    await night;
  });

  it('the reboot button reboots as the cloud command does; a retained press is ignored', async () => {
    await ha.client.publishAsync(topic('reboot/press'), 'PRESS', { qos: 1, retain: true });
    await sim.stdout.waitFor(
      (l) => l.includes('retained home assistant command ignored'),
      'retained refusal',
    );
    await ha.client.publishAsync(topic('reboot/press'), '', { qos: 1, retain: true });
    const back = ha.next(
      (m) => m.topic === topic('availability') && m.payload.toString() === 'online',
      'online again',
    );
    await ha.client.publishAsync(topic('reboot/press'), 'PRESS', { qos: 1 });
    await sim.waitForLog('reboot requested from home assistant');
    await sim.waitForLog('simulated reboot');
    await back;
  });

  it('with snapshotIntervalSeconds the camera entity gets a picture on that interval, neither stored nor uploaded', async () => {
    await desire({ motion: { enabled: false } });
    const stored = await snapshotsIn(dataDir);
    const picture = (m: Seen) => m.topic === topic('camera/image') && m.payload.length > 0;
    const first = ha.next(picture, 'an interval picture', 30000);
    await desire({ homeAssistant: { snapshotIntervalSeconds: 1 } });
    const a = await first;
    const b = await ha.next(picture, 'the next interval picture', 30000);
    for (const m of [a, b]) expect(m.payload.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(await snapshotsIn(dataDir)).toEqual(stored);
  });

  it('disabling removes every discovery config and retained state', async () => {
    const removals = EXPECTED_ENTITIES.map((e) => {
      const [component, object] = e.split('/');
      const t = `homeassistant/${component}/${deviceId}/${object}/config`;
      return ha.next((m) => m.topic === t && m.payload.length === 0, `${t} removed`);
    });
    await desire({ homeAssistant: { enabled: false } });
    await Promise.all(removals);
    expect((await retainedUnder(cloud.broker.url, 'homeassistant/#')).filter(config)).toEqual([]);
    expect(await retainedUnder(cloud.broker.url, `ipcam/${deviceId}/#`)).toEqual([]);
  });
});

describe('Home Assistant availability', () => {
  const broker = useBroker(['ipcam/#']);

  it('a camera that dies without a goodbye is marked offline by its last will', async () => {
    const sim = startSim(await simDataDir('ha-will', { media: false }), broker.broker.port);
    try {
      const deviceId = await sim.banner('device id', 30000);
      const availability = `ipcam/${deviceId}/availability`;
      await broker.observer.waitFor(
        (m) => m.topic === availability && m.payload.toString() === 'online',
        'online',
      );
      const offline = broker.observer.next(
        (m) => m.topic === availability && m.payload.toString() === 'offline',
        'offline by the last will',
      );
      await sim.kill('SIGKILL');
      await offline;
    } finally {
      await sim.kill();
    }
  });
});
