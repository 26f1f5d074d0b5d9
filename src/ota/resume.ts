import type { RunningFirmware } from './installer.js';
import type { JobRecord } from './state.js';

export type ResumeAction =
  /** Go on from the recorded phase (download, verify, install). */
  | { kind: 'continue' }
  /** The new firmware runs on trial: check its health. */
  | { kind: 'confirm' }
  /** The reboot was asked for but did not happen (same boot): ask again. */
  | { kind: 'reboot' }
  /** The rollback was asked for and a reboot happened, yet the new firmware still runs. */
  | { kind: 'rollback-failed' }
  /** The old firmware runs again: the job failed. */
  | { kind: 'rolled-back'; cause: string };

/**
 * What a job found in the state file at start-up means, given which firmware booted. The running
 * versionCode tells old from new; the boot id tells a reboot from a mere restart of the daemon.
 */
export function resumeAction(
  job: JobRecord & { bootId?: string | undefined },
  target: number,
  running: RunningFirmware,
): ResumeAction {
  const onNew = running.versionCode === target;
  const sameBoot = job.bootId !== undefined && job.bootId === running.bootId;
  switch (job.phase) {
    case 'downloading':
    case 'verifying':
    case 'installing':
      // Killed after the switch but before "rebooting" was recorded: the trial slot booted.
      return onNew ? { kind: 'confirm' } : { kind: 'continue' };
    case 'rebooting':
    case 'confirming':
      if (onNew) return { kind: 'confirm' };
      if (sameBoot) return { kind: 'reboot' };
      return { kind: 'rolled-back', cause: running.fellBack?.reason ?? 'new_firmware_did_not_boot' };
    case 'rolling_back':
      if (!onNew) return { kind: 'rolled-back', cause: job.failure?.reason ?? 'health_check_failed' };
      return sameBoot ? { kind: 'reboot' } : { kind: 'rollback-failed' };
  }
}
