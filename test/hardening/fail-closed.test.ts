import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimGpioChip } from '../../src/hardware/gpio/sim-chip.js';
import { useBroker } from '../helpers/broker-fixture.js';
import type { Seen } from '../helpers/observer.js';
import { simDataDir, startSim } from './sim-process.js';

/** The simulator's reset button (simBoard in src/cli/sim.ts): line 17, active low. */
const BUTTON_LINE = 17;

function flipBit(data: Buffer, byte: number, bit: number): Buffer {
  const out = Buffer.from(data);
  out[byte] = (out[byte] ?? 0) ^ (1 << bit);
  return out;
}

/** One bit of the ciphertext changed: the file stays well-formed JSON, but GCM refuses it. */
async function flipCiphertextBit(path: string): Promise<void> {
  const envelope = JSON.parse(await readFile(path, 'utf8')) as { data: string };
  const data = Buffer.from(envelope.data, 'base64');
  envelope.data = flipBit(data, Math.floor(data.length / 2), 3).toString('base64');
  await writeFile(path, JSON.stringify(envelope));
}

describe('a damaged secret store or state file: the camera comes up, fails closed and says so', () => {
  const cloud = useBroker();
  const topic = (serial: string, rest: string) => `cam/v1/${serial}/${rest}`;
  const isError = (serial: string, file: string) => (m: Seen) =>
    m.topic === topic(serial, 'evt/error') && m.json().code === 'state_corrupt' && m.json().file === file;

  it('secrets.enc with one flipped bit: up, credentials gone, back in setup, reported once; the button still resets it', async () => {
    const dataDir = await simDataDir('secrets-bit', { media: false });
    const first = startSim(dataDir, cloud.broker.port);
    const serial = await first.banner('device id');
    const t = (rest: string) => topic(serial, rest);
    await cloud.observer.waitFor((m) => m.topic === t('status') && m.json().state === 'online', 'online');
    const reported = cloud.observer.next(
      (m) => m.topic === t('state/reported') && m.json().version === 1,
      'v1',
    );
    await cloud.observer.client.publishAsync(
      t('state/desired'),
      JSON.stringify({ version: 1, state: { rtsp: { username: 'owner', password: 'Owner-Pass-77' } } }),
      { qos: 1 },
    );
    expect(
      (await reported).json<{ state: { rtsp: { passwordSet: boolean } } }>().state.rtsp.passwordSet,
    ).toBe(true);
    expect(await first.kill()).toEqual({ code: 0, signal: null });

    await flipCiphertextBit(join(dataDir, 'secrets.enc'));
    const second = startSim(dataDir, cloud.broker.port);
    const reportedError = cloud.observer.next(
      isError(serial, 'secrets.enc'),
      'state_corrupt for secrets.enc',
      30000,
    );
    const backInSetup = cloud.observer.next(
      (m) => m.topic === t('evt/provisioning') && ['scanning', 'softap'].includes(m.json().state as string),
      'back in setup',
      30000,
    );
    await reportedError;
    await backInSetup;
    const online = cloud.observer.seen.filter((m) => m.topic === t('status') && m.json().state === 'online');
    expect(online.length).toBeGreaterThanOrEqual(2);
    const files = await readdir(dataDir);
    expect(files.some((f) => /^secrets\.enc\.bad-\d+$/.test(f))).toBe(true);
    const provisioning = JSON.parse(await readFile(join(dataDir, 'provisioning.json'), 'utf8')) as {
      state: string;
    };
    expect(provisioning.state).not.toBe('provisioned');

    // The owner recovers it with a 5 s press of the reset button.
    const chip = new SimGpioChip(join(dataDir, 'sim-gpio'));
    chip.set(BUTTON_LINE, 0);
    await second.stdout.waitFor((l) => l.includes('factory reset requested'), 'factory reset', 15000);
    chip.set(BUTTON_LINE, 1);
    await second.stdout.waitFor((l) => l.includes('factory reset: user data erased'), 'erased', 15000);
    expect((await readdir(dataDir)).some((f) => f.startsWith('secrets.enc.bad'))).toBe(false);
    // Reported once: the new run after the reset has nothing left to report.
    expect(cloud.observer.seen.filter(isError(serial, 'secrets.enc'))).toHaveLength(1);
    expect(await second.kill()).toEqual({ code: 0, signal: null });
  });

  it('state.json with one flipped bit: privacy mode on (not the fail-open defaults), reported', async () => {
    const dataDir = await simDataDir('state-bit', { media: false });
    const statePath = join(dataDir, 'state.json');
    await writeFile(
      statePath,
      JSON.stringify({
        schemaVersion: 1,
        desiredVersion: 3,
        settings: { privacyMode: false, name: 'Porch' },
      }),
    );
    const text = await readFile(statePath);
    // A bit of the `{` that opens the settings: the file no longer parses.
    await writeFile(statePath, flipBit(text, text.indexOf('{', 1), 1));
    const sim = startSim(dataDir, cloud.broker.port);
    const serial = await sim.banner('device id');
    const t = (rest: string) => topic(serial, rest);
    await cloud.observer.waitFor(isError(serial, 'state.json'), 'state_corrupt for state.json', 30000);
    const reported = await cloud.observer.waitFor((m) => m.topic === t('state/reported'), 'reported', 30000);
    expect(reported.json<{ version: number; state: { privacyMode: boolean } }>()).toMatchObject({
      version: 0,
      state: { privacyMode: true },
    });
    // The owner's settings come back with the cloud's next desired document.
    const restored = cloud.observer.next(
      (m) => m.topic === t('state/reported') && m.json().version === 4,
      'v4',
    );
    await cloud.observer.client.publishAsync(
      t('state/desired'),
      JSON.stringify({ version: 4, state: { privacyMode: false } }),
      { qos: 1 },
    );
    expect((await restored).json<{ state: { privacyMode: boolean } }>().state.privacyMode).toBe(false);
    expect(await sim.kill()).toEqual({ code: 0, signal: null });
  });

  it('provisioning.json with one flipped bit: back in setup, reported', async () => {
    const dataDir = await simDataDir('prov-bit', { media: false });
    const first = startSim(dataDir, cloud.broker.port);
    const serial = await first.banner('device id');
    await cloud.observer.waitFor(
      (m) => m.topic === topic(serial, 'status') && m.json().state === 'online',
      'online',
    );
    expect(await first.kill()).toEqual({ code: 0, signal: null });
    const path = join(dataDir, 'provisioning.json');
    const text = await readFile(path);
    await writeFile(path, flipBit(text, text.indexOf('provisioned'), 0));
    const second = startSim(dataDir, cloud.broker.port);
    await cloud.observer.waitFor(
      isError(serial, 'provisioning.json'),
      'state_corrupt for provisioning.json',
      30000,
    );
    await cloud.observer.waitFor(
      (m) =>
        m.topic === topic(serial, 'evt/provisioning') &&
        ['scanning', 'softap'].includes(m.json().state as string),
      'back in setup',
      30000,
    );
    expect(await second.kill()).toEqual({ code: 0, signal: null });
  });
});
