import { RecentRequests } from '../cloud/commands.js';
import { Backoff } from '../core/backoff.js';
import { AgentError } from '../core/errors.js';
import { FreeMemoryReturn } from '../core/free-memory.js';
import type { Logger } from '../core/logger.js';
import { SystemdNotifier } from '../core/systemd.js';
import { eraseUserData } from '../storage/erase.js';
import { type Agent, type AgentContext, createAgent } from './agent.js';
import { rescueMode } from './rescue.js';
import type { ExitRequest } from './system-commands.js';

export interface DaemonOptions extends Omit<AgentContext, 'recentRequests'> {
  /** Aborted on SIGTERM/SIGINT. */
  signal: AbortSignal;
  /** The simulator "reboots" by building the agent anew in this process. */
  rebootInProcess: boolean;
  /** Real reboot on a camera (systemctl reboot). */
  reboot: () => Promise<void>;
  onStarted?: (agent: Agent) => void | Promise<void>;
  /** How long rescue mode waits before the agent is tried again (doubling up to 5 min). */
  rescueRetryMs?: number;
}

const RESCUE_MAX_MS = 5 * 60_000;

/**
 * Runs the agent until a stop signal; handles reboot and factory-reset requests. Returns the process
 * exit code: 0 after a clean stop.
 */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const { unmapFilePagesAfterSeconds, unmapFilePagesEverySeconds } = options.config.memory;
  const freeMemory = new FreeMemoryReturn(options.log, {
    dropFilePagesAfterMs: unmapFilePagesAfterSeconds * 1000,
    dropFilePagesEveryMs: unmapFilePagesEverySeconds * 1000,
  });
  freeMemory.start();
  try {
    return await runAgents(options);
  } finally {
    freeMemory.stop();
  }
}

async function runAgents(options: DaemonOptions): Promise<number> {
  const { log, signal } = options;
  const notifier = options.config.systemd.notify ? new SystemdNotifier(log) : undefined;
  const recentRequests = new RecentRequests();
  const stopRequested = new Promise<'stop'>((resolve) => {
    if (signal.aborted) resolve('stop');
    signal.addEventListener('abort', () => resolve('stop'), { once: true });
  });

  const retry = new Backoff({ initialMs: options.rescueRetryMs ?? 10_000, maxMs: RESCUE_MAX_MS, jitter: 0 });
  for (;;) {
    const agent = createAgent({ ...options, recentRequests });
    const started = agent.lifecycle.start();
    const first = await Promise.race([
      started.then(
        () => 'started' as const,
        (err: unknown) => ({ failed: err }),
      ),
      stopRequested,
    ]);
    if (typeof first === 'object') {
      // The lifecycle has already unwound what had started. A camera is never left dead: the reset
      // button keeps working while the agent is tried again with backoff.
      const retryMs = retry.next();
      log.error({ err: first.failed, retryMs }, 'the agent could not start; rescue mode until the next try');
      await notifier?.ready('rescue mode: the agent could not start');
      const outcome = await rescueMode({ config: options.config, signal, retryMs, log });
      if (outcome === 'stop') return 0;
      if (outcome === 'factory-reset') await factoryReset(options, undefined, log);
      continue;
    }
    if (first === 'stop') {
      await agent.lifecycle.stop();
      await started.catch((err: unknown) => {
        if (!(err instanceof AgentError && err.code === 'aborted')) throw err;
      });
      return 0;
    }
    retry.reset();
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
    if (outcome.kind === 'factory-reset') await factoryReset(options, agent, log);
    if (!options.rebootInProcess) {
      log.warn({ reason: outcome.kind }, 'rebooting');
      await options.reboot();
      return 0;
    }
    log.warn({ reason: outcome.kind }, 'simulated reboot: restarting the agent in this process');
  }
}

/** Forgets the Wi-Fi networks (when the agent got that far), erases the owner's data and its secrets. */
async function factoryReset(options: DaemonOptions, agent: Agent | undefined, log: Logger): Promise<void> {
  await agent?.forgetNetworks().catch((err: unknown) => log.warn({ err }, 'could not forget Wi-Fi networks'));
  const removed = await eraseUserData(options.config.dataDir);
  log.warn({ removed }, 'factory reset: user data erased');
  options.secrets.clear();
}
