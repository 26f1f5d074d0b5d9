import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DaemonProcess, prepareDevice } from './daemon.js';
import type { Observer } from './observer.js';

const PRELOAD = resolve('test/helpers/module-list-preload.mjs');

/**
 * Runs the built daemon against the broker at `url` until it reports `online` (seen by `observer`),
 * stops it, and returns the built-in modules Node had loaded (`process.moduleLoadList`).
 */
export async function modulesWhenOnline(url: string, observer: Observer): Promise<string[]> {
  const device = await prepareDevice({ url });
  const out = join(await mkdtemp(join(tmpdir(), 'modules-')), 'list.txt');
  const daemon = DaemonProcess.run(device.configPath, {
    NODE_OPTIONS: `--import ${PRELOAD}`,
    MODULE_LIST_OUT: out,
  });
  await observer.waitFor(
    (m) => m.topic === `cam/v1/${device.serial}/status` && m.json().state === 'online',
    `online over ${url}`,
  );
  await daemon.kill('SIGTERM');
  return (await readFile(out, 'utf8')).split('\n');
}
