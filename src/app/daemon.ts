import { RecentRequests } from '../cloud/commands.js';
import { AgentError } from '../core/errors.js';
import { SystemdNotifier } from '../core/systemd.js';
import { eraseUserData } from '../storage/erase.js';
import { type Agent, type AgentContext, createAgent } from './agent.js';
import type { ExitRequest } from './system-commands.js';

export interface DaemonOptions extends Omit<AgentContext, 'recentRequests'> {
  /** Aborted on SIGTERM/SIGINT. */
  signal: AbortSignal;
  /** The simulator "reboots" by building the agent anew in this process. */
  rebootInProcess: boolean;
  /** Real reboot on a camera (systemctl reboot). */
  reboot: () => Promise<void>;
  onStarted?: (agent: Agent) => void | Promise<void>;
}

/**
 * Runs the agent until a stop signal; handles reboot and factory-reset requests. Returns the process
 * exit code: 0 after a clean stop.
 */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const { log, signal } = options;
  const notifier = options.config.systemd.notify ? new SystemdNotifier(log) : undefined;
  const recentRequests = new RecentRequests();
  const stopRequested = new Promise<'stop'>((resolve) => {
    if (signal.aborted) resolve('stop');
    signal.addEventListener('abort', () => resolve('stop'), { once: true });
  });

  for (;;) {
    const agent = await createAgent({ ...options, recentRequests });
    const started = agent.lifecycle.start();
    const first = await Promise.race([started.then(() => 'started' as const), stopRequested]);
    if (first === 'stop') {
      await agent.lifecycle.stop();
      await started.catch((err: unknown) => {
        if (!(err instanceof AgentError && err.code === 'aborted')) throw err;
      });
      return 0;
    }
    log.info({ deviceId: agent.deviceId, modules: agent.lifecycle.startedModules }, 'agent started');
    await notifier?.ready('running');
    await options.onStarted?.(agent);

    const outcome: ExitRequest | 'stop' = await Promise.race([stopRequested, agent.exitRequested]);
    await notifier?.stopping();
    await agent.lifecycle.stop();
    if (outcome === 'stop') {
      log.info('stopped cleanly');
      return 0;
    }
    if (outcome.kind === 'factory-reset') {
      await agent
        .forgetNetworks()
        .catch((err: unknown) => log.warn({ err }, 'could not forget Wi-Fi networks'));
      const removed = await eraseUserData(options.config.dataDir);
      log.warn({ removed }, 'factory reset: user data erased');
      options.secrets.clear();
    }
    if (!options.rebootInProcess) {
      log.warn({ reason: outcome.kind }, 'rebooting');
      await options.reboot();
      return 0;
    }
    log.warn({ reason: outcome.kind }, 'simulated reboot: restarting the agent in this process');
  }
}
