import type { RunningFirmware } from './installer.js';
import type { JobRecord } from './state.js';

export const MAX_ROLLBACK_ATTEMPTS = 3;

export type ResumeAction =
  /** Go on from the recorded phase (download, verify, install). */
  | { kind: 'continue' }
  /** The new firmware runs on trial: check its health. */
  | { kind: 'confirm' }
  /** The reboot was asked for but did not happen (same boot): ask again. */
  | { kind: 'reboot' }
  /** The new firmware still runs after the rollback was asked for (cut before mark-bad took): again. */
  | { kind: 'mark-bad-again' }
  /** ...and again it still runs: the bootloader does not roll back. */
  | { kind: 'rollback-failed' }
  /** The old firmware runs again: the job failed. */
  | { kind: 'rolled-back'; cause: string };

/**
 * What a job found in the state file at start-up means, given which firmware booted. The running
 * versionCode tells old from new; the boot id tells a reboot from a mere restart of the daemon.
 */
export function resumeAction(job: JobRecord, target: number, running: RunningFirmware): ResumeAction {
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
      if (sameBoot) return { kind: 'reboot' };
      return (job.rollbackAttempts ?? 1) < MAX_ROLLBACK_ATTEMPTS
        ? { kind: 'mark-bad-again' }
        : { kind: 'rollback-failed' };
  }
}
