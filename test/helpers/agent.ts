import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Agent, createAgent } from '../../src/app/agent.js';
import { RecentRequests } from '../../src/cloud/commands.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/logger.js';
import { SecretValues } from '../../src/core/redact.js';
import { LineLog } from './lines.js';

/** The agent in the test process, for tests that drive a module's public interface directly. */
export async function startAgentInProcess(
  cloud: Record<string, unknown>,
  reuse?: { dataDir: string; serial: string },
): Promise<{ agent: Agent; logs: LineLog; serial: string; dataDir: string }> {
  const dataDir = reuse?.dataDir ?? (await mkdtemp(join(tmpdir(), 'ipcam-agent-')));
  const logs = new LineLog();
  const secrets = new SecretValues();
  const log = createLogger({
    level: 'trace',
    secrets,
    destination: { write: (line: string) => logs.push(line.trimEnd()) },
  });
  const serial = reuse?.serial ?? `P${Math.random().toString(16).slice(2, 12).toUpperCase()}`;
  const config = parseConfig({
    dataDir,
    cloud: { reconnect: { initialMs: 50, maxMs: 300 }, ...cloud },
    media: { enabled: false },
  });
  const agent = await createAgent({
    config,
    identity: { serial, verificationCode: 'ABC123', mac: '02:00:00:00:00:02' },
    fwVersion: '1.4.2',
    log,
    secrets,
    capabilities: [],
    recentRequests: new RecentRequests(),
  });
  await agent.lifecycle.start();
  return { agent, logs, serial, dataDir };
}
