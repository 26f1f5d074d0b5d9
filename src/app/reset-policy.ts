import { Type } from '@sinclair/typebox';
import type { CommandRouter } from '../cloud/commands.js';
import type { Logger } from '../core/logger.js';
import type { Voice } from '../hardware/voice/voice.js';
import type { ExitRequest } from './system-commands.js';

export type ResetVia = 'button' | 'unbind' | 'command';

/** How long the spoken "factory reset" may hold up the reset: a speaker that hangs must not stop it. */
const SPEAK_LIMIT_MS = 5000;

/**
 * The one factory-reset policy, whoever asks: the 5 s button press, the `unbind` command and the
 * `factoryReset` command. It is logged with who asked, spoken so the owner hears it before the
 * camera goes quiet, and then the daemon stops the agent, erases the owner's data and starts afresh.
 */
export function createResetPolicy(deps: {
  voice: Voice | undefined;
  requestExit: (request: ExitRequest) => void;
  log: Logger;
}): (via: ResetVia) => void {
  let requested = false;
  return (via) => {
    if (requested) return;
    requested = true;
    deps.log.warn({ via }, 'factory reset requested');
    const spoken = deps.voice?.say('factory_reset') ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SPEAK_LIMIT_MS);
    });
    void Promise.race([spoken.catch(() => undefined), limit]).then(() => {
      clearTimeout(timer);
      deps.requestExit({ kind: 'factory-reset' });
    });
  };
}

const NoParams = Type.Object({}, { additionalProperties: false });

/** `unbind` and `factoryReset`: both answer first, then reset through the one policy. */
export function registerResetCommands(commands: CommandRouter, reset: (via: ResetVia) => void): void {
  commands.register<Record<string, never>>('unbind', {
    params: NoParams,
    run: async () => ({ result: { unbinding: true }, after: () => reset('unbind') }),
  });
  commands.register<Record<string, never>>('factoryReset', {
    params: NoParams,
    run: async () => ({ result: { resetting: true }, after: () => reset('command') }),
  });
}
