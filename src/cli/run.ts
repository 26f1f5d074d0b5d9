import { spawn } from 'node:child_process';
import { runDaemon } from '../app/daemon.js';
import { loadConfigFile } from '../config/load.js';
import type { LogFormat } from '../core/logger.js';
import { loadIdentity } from '../device/identity.js';
import { AlsaSpeaker, FileSpeaker } from '../webrtc/speaker.js';
import { makeLogger, packageVersion, stopSignal } from './common.js';

/** `ipcam-agent run --config <file>`: the daemon on a camera. */
export async function runCommand(
  configPath: string,
  options: { logFormat?: LogFormat | undefined } = {},
): Promise<number> {
  const config = await loadConfigFile(configPath);
  const identity = await loadIdentity(config.device.identityFile);
  const { log, secrets } = makeLogger(config.log.level, options.logFormat);
  return runDaemon({
    config,
    identity,
    fwVersion: config.device.fwVersion ?? packageVersion(),
    log,
    secrets,
    capabilities: [],
    signal: stopSignal(log),
    speaker: (logger) => {
      const speaker = config.webrtc.speaker ?? { kind: 'alsa', device: 'default' };
      if (speaker.kind === 'file') return new FileSpeaker(speaker.path, logger);
      if (speaker.kind === 'alsa') return new AlsaSpeaker(speaker.device, config.media.ffmpegPath, logger);
      return undefined;
    },
    rebootInProcess: false,
    reboot: () =>
      new Promise((resolve) => {
        spawn('systemctl', ['reboot'], { stdio: 'ignore' }).once('close', () => resolve());
      }),
  });
}
