import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess } from '../helpers/daemon.js';
import { SMALL_STREAMS } from '../helpers/media.js';

/** A data directory for the simulator: small streams, or no capture at all. */
export async function simDataDir(prefix: string, options: { media: boolean }): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  await writeFile(
    join(dataDir, 'state.json'),
    JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
  );
  const config = options.media ? {} : { media: { enabled: false } };
  await writeFile(join(dataDir, 'test-config.json'), JSON.stringify(config));
  return dataDir;
}

/** `ipcam-agent sim` on free ports against the given broker. */
export function startSim(dataDir: string, brokerPort: number, extra: string[] = []): DaemonProcess {
  return new DaemonProcess([
    'sim',
    ...['--data-dir', dataDir, '--config', join(dataDir, 'test-config.json')],
    ...['--broker-port', String(brokerPort), '--console-port', '0', '--rtsp-port', '0', '--softap-port', '0'],
    ...extra,
  ]);
}
