import { spawn } from 'node:child_process';
import { runDaemon } from '../app/daemon.js';
import { loadConfigFile } from '../config/load.js';
import { loadIdentity } from '../device/identity.js';
import { makeLogger, packageVersion, stopSignal } from './common.js';

/** `ipcam-agent run --config <file>`: the daemon on a camera. */
export async function runCommand(configPath: string): Promise<number> {
  const config = await loadConfigFile(configPath);
  const identity = await loadIdentity(config.device.identityFile);
  const { log, secrets } = makeLogger(config.log.level);
  return runDaemon({
    config,
    identity,
    fwVersion: config.device.fwVersion ?? packageVersion(),
    log,
    secrets,
    capabilities: [],
    signal: stopSignal(log),
    rebootInProcess: false,
    reboot: () =>
      new Promise((resolve) => {
        spawn('systemctl', ['reboot'], { stdio: 'ignore' }).once('close', () => resolve());
      }),
  });
}
