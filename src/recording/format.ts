import { AgentError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type ExecResult, execTool } from '../provisioning/wifi/exec.js';
import type { FormatConfig } from './config.js';

export type FormatStep = 'unmount' | 'mkfs' | 'mount';

/** The argv of mkfs for the configured file system, on `device`. */
export function mkfsArgv(config: FormatConfig, device: string): string[] {
  const [command, ...pre] = config.mkfsCommand ?? [`mkfs.${config.fsType}`];
  const label = config.label;
  switch (config.fsType) {
    case 'ext4':
      // -F: the device is whole (a card partition or a loop device), not a file to confirm.
      return [command as string, ...pre, '-F', '-q', ...(label ? ['-L', label] : []), device];
    case 'exfat':
      return [command as string, ...pre, ...(label ? ['-L', label] : []), device];
    case 'vfat':
      // -I: a card without a partition table is formatted whole, as cameras and PCs do.
      return [command as string, ...pre, '-I', ...(label ? ['-n', label] : []), device];
  }
}

/**
 * Formats the card: unmount, mkfs, mount back, each step an argv with a timeout. A failed step
 * ends it with `format_failed` naming the step; a failure after the unmount still tries to mount
 * the card back, so a card that mkfs did not touch (no permission, tool missing) is as it was.
 * The caller stops recording before and looks at the card after.
 */
export async function formatCard(config: FormatConfig, root: string, log: Logger): Promise<void> {
  const device = config.device;
  if (!device) throw new AgentError('format_unavailable', 'no block device is configured for the card');
  const timeoutMs = config.stepTimeoutMs;
  const step = async (name: FormatStep, argv: readonly string[]): Promise<void> => {
    const [command, ...args] = argv as [string, ...string[]];
    log.warn({ step: name, argv: argv.join(' ') }, 'format: step');
    let result: ExecResult;
    try {
      result = await execTool(command, args, { log, timeoutMs });
    } catch (err) {
      throw new AgentError('format_failed', `${name}: ${command} could not be run`, {
        cause: err,
        details: { step: name },
      });
    }
    if (result.code !== 0) {
      const why = (result.stderr || result.stdout).trim().slice(-300);
      throw new AgentError('format_failed', `${name} failed (exit ${result.code}): ${why}`, {
        details: { step: name, exitCode: result.code },
      });
    }
  };
  const mount = [...(config.mountCommand ?? ['mount']), '-t', config.fsType, device, root];
  await step('unmount', [...(config.umountCommand ?? ['umount']), root]);
  try {
    await step('mkfs', mkfsArgv(config, device));
  } catch (err) {
    // The old file system is very likely intact: give it back rather than leave the card unmounted.
    await step('mount', [...(config.mountCommand ?? ['mount']), device, root]).catch((again: unknown) =>
      log.error({ err: again }, 'format: the card could not be mounted back after mkfs failed'),
    );
    throw err;
  }
  await step('mount', mount);
  log.warn({ fsType: config.fsType }, 'format: done');
}
