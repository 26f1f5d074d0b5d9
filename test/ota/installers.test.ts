import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { SecretValues } from '../../src/core/redact.js';
import { OtaError } from '../../src/ota/errors.js';
import { RaucInstaller } from '../../src/ota/installers/rauc.js';
import { SwupdateInstaller } from '../../src/ota/installers/swupdate.js';

const log = createLogger({ level: 'fatal', secrets: new SecretValues() });
const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const signal = new AbortController().signal;

/** Puts the fake tools first on PATH under their real names, as a camera image would have them. */
async function fakeTools(): Promise<{ dir: string; restore: () => void }> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-tools-'));
  await copyFile(join(FIXTURES, 'fake-rauc.mjs'), join(dir, 'rauc'));
  await copyFile(join(FIXTURES, 'fake-swupdate.mjs'), join(dir, 'swupdate'));
  await copyFile(join(FIXTURES, 'fake-fw_setenv.mjs'), join(dir, 'fw_setenv'));
  for (const name of ['rauc', 'swupdate', 'fw_setenv'])
    await import('node:fs/promises').then((fs) => fs.chmod(join(dir, name), 0o755));
  const previous = process.env.PATH;
  process.env.PATH = `${dir}:${previous}`;
  return { dir, restore: () => (process.env.PATH = previous) };
}

async function rejection(promise: Promise<unknown>): Promise<OtaError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof OtaError)) throw new Error(`expected an OtaError, got ${String(err)}`);
  return err;
}

describe('installer adapters against fake rauc, swupdate and fw_setenv', () => {
  let tools: { dir: string; restore: () => void };
  beforeAll(async () => {
    tools = await fakeTools();
  });
  afterAll(() => tools.restore());

  it('RAUC: installs with progress, checks the next boot slot, marks good and bad', async () => {
    const statePath = join(tools.dir, 'rauc-state.json');
    await writeFile(
      statePath,
      JSON.stringify({
        compatible: 'ipcam-1000',
        booted: 'A',
        primary: 'rootfs.0',
        slots: {
          'rootfs.0': { bootname: 'A', device: '/dev/mmcblk0p2', good: true, version: '1.4.2' },
          'rootfs.1': { bootname: 'B', device: '/dev/mmcblk0p3', good: true, version: '1.3.0' },
        },
        calls: [],
      }),
    );
    process.env.FAKE_RAUC_STATE = statePath;
    const bundle = join(tools.dir, 'update.raucb');
    await writeFile(bundle, 'hsqs\nversion=1.5.0\n');
    const rauc = new RaucInstaller({ command: 'rauc', log });
    const progress: number[] = [];
    await rauc.install(bundle, { version: '1.5.0', versionCode: 10500 }, signal, (pct) => progress.push(pct));
    expect(progress.at(-1)).toBe(100);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    const status = await rauc.status();
    expect(status).toMatchObject({ compatible: 'ipcam-1000', booted: 'A', bootPrimary: 'rootfs.1' });
    expect(status.slots).toContainEqual(
      expect.objectContaining({
        name: 'rootfs.1',
        bootname: 'B',
        bundleVersion: '1.5.0',
        bootStatus: 'good',
      }),
    );
    await rauc.markGood();
    await rauc.markBad();
    const calls = (JSON.parse(await readFile(statePath, 'utf8')) as { calls: string[][] }).calls;
    expect(calls).toContainEqual(['install', bundle]);
    expect(calls).toContainEqual(['status', '--detailed', '--output-format=json']);
    expect(calls.slice(-2)).toEqual([
      ['status', 'mark-good', 'booted'],
      ['status', 'mark-bad', 'booted'],
    ]);
  });

  it('RAUC: a bundle it refuses fails the install with its LastError', async () => {
    const bundle = join(tools.dir, 'garbage.raucb');
    await writeFile(bundle, 'not a squashfs');
    const err = await rejection(
      new RaucInstaller({ command: 'rauc', log }).install(
        bundle,
        { version: '1.5.0', versionCode: 10500 },
        signal,
      ),
    );
    expect(err.reason).toBe('install_failed');
    expect(err.message).toContain('Failed to check bundle');
  });

  it('RAUC: a bundle of another version than the job says is refused', async () => {
    const bundle = join(tools.dir, 'other.raucb');
    await writeFile(bundle, 'hsqs\nversion=9.9.9\n');
    const err = await rejection(
      new RaucInstaller({ command: 'rauc', log }).install(
        bundle,
        { version: '1.5.0', versionCode: 10500 },
        signal,
      ),
    );
    expect(err.reason).toBe('manifest_mismatch');
  });

  it('SWUpdate: installs with the configured arguments and confirms through fw_setenv', async () => {
    const statePath = join(tools.dir, 'swu-state.json');
    await writeFile(statePath, JSON.stringify({ calls: [], env: {} }));
    process.env.FAKE_SWU_STATE = statePath;
    const image = join(tools.dir, 'update.swu');
    await writeFile(image, '070701 cpio newc archive');
    const swu = new SwupdateInstaller({
      command: 'swupdate',
      args: ['-k', '/etc/swupdate/public.pem', '-e', 'stable,main'],
      markGood: ['fw_setenv', 'ustate', '0'],
      markBad: ['fw_setenv', 'ustate', '3'],
      log,
    });
    await swu.install(image, { version: '1.5.0', versionCode: 10500 }, signal);
    await swu.markBad();
    await swu.markGood();
    const recorded = JSON.parse(await readFile(statePath, 'utf8')) as {
      calls: string[][];
      env: Record<string, string>;
    };
    expect(recorded.calls).toEqual([
      ['swupdate', '-k', '/etc/swupdate/public.pem', '-e', 'stable,main', '-i', image],
      ['fw_setenv', 'ustate', '3'],
      ['fw_setenv', 'ustate', '0'],
    ]);
    expect(recorded.env.ustate).toBe('0');

    await writeFile(image, 'corrupted');
    const err = await rejection(swu.install(image, { version: '1.5.0', versionCode: 10500 }, signal));
    expect(err.reason).toBe('install_failed');
    expect(err.message).toContain('Image invalid or corrupted');
  });

  it('a missing tool is an install failure, not a crash', async () => {
    const err = await rejection(
      new RaucInstaller({ command: 'rauc-not-installed', log }).install(
        '/nope',
        { version: '1', versionCode: 1 },
        signal,
      ),
    );
    expect(err.reason).toBe('install_failed');
  });
});
