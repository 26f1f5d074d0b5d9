import { Type as T } from '@sinclair/typebox';
import type { CommandRouter } from '../cloud/commands.js';
import type { DeviceInfo } from '../device/info.js';

export type ExitRequest = { kind: 'reboot' } | { kind: 'factory-reset' };

const NoParams = T.Object({}, { additionalProperties: false });

/** The device-level commands of contract section 3: getInfo and reboot (the resets: reset-policy.ts). */
export function registerSystemCommands(
  commands: CommandRouter,
  deps: { info: () => DeviceInfo; requestExit: (request: ExitRequest) => void },
): void {
  commands.register<Record<string, never>>('getInfo', {
    params: NoParams,
    run: async () => ({ result: deps.info() }),
  });
  commands.register<Record<string, never>>('reboot', {
    params: NoParams,
    run: async () => ({ result: { rebooting: true }, after: () => deps.requestExit({ kind: 'reboot' }) }),
  });
}
