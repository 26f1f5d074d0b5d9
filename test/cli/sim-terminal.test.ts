import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/daemon.js';
import { LineLog } from '../helpers/lines.js';
import { SMALL_STREAMS } from '../helpers/media.js';

const PRETTY = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) /;

/** Single quotes for sh: script(1) takes one command line. */
const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

/**
 * The simulator on a terminal, as a person starts it: under script(1), which gives it a pseudo-terminal
 * for stdin, stdout and stderr; what it writes there comes back on script's stdout.
 */
async function simOnTerminal(env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; out: LineLog }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sim-tty-'));
  await writeFile(
    join(dataDir, 'state.json'),
    JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
  );
  // exec: otherwise a shell that does not exec its last command (dash, what script(1) runs when SHELL is
  // unset) catches the Ctrl-C itself and reports 130 whatever the simulator did.
  const command = `exec ${[
    process.execPath,
    BIN,
    'sim',
    ...['--data-dir', dataDir, '--broker-port', '0', '--ws-port', '0', '--console-port', '0'],
    ...['--rtsp-port', '0', '--softap-port', '0'],
  ]
    .map(quote)
    .join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', IPCAM_LOG_FORMAT: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out = new LineLog();
  out.attach(child.stdout);
  return { child, out };
}

/** Ctrl-C on the terminal: SIGINT to the simulator, as a person stops it. */
function interrupt(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  child.stdin?.write('\x03');
  return exited;
}

describe('the simulator on a terminal', () => {
  let running: ChildProcess | undefined;
  afterEach(() => {
    if (running?.exitCode === null) running.kill('SIGKILL');
  });

  it('logs readable lines and prints its banner after the modules have started', async () => {
    const { child, out } = await simOnTerminal();
    running = child;
    await out.waitFor((l) => l.trim().startsWith('rtsp '), 'the banner', 30_000);
    const lines = out.lines.map((l) => l.replace(/\r$/, ''));

    const logs = lines.filter((l) => PRETTY.test(l));
    expect(logs.length).toBeGreaterThan(5);
    expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
    // NO_COLOR: no escape sequences at all.
    expect(lines.join('\n')).not.toContain('\u001b');
    // time level module message key=value
    expect(lines).toContainEqual(expect.stringMatching(/ INFO {2}rtsp rtsp server listening {2}port=\d+ /));

    const started = lines.findIndex((l) => PRETTY.test(l) && l.includes(' agent started '));
    const title = lines.indexOf('ipcam-agent simulator');
    expect(started).toBeGreaterThanOrEqual(0);
    expect(title).toBeGreaterThan(started);
    // The banner is one block: nothing logged between its first line and its RTSP line.
    const rtsp = lines.findIndex((l) => l.trim().startsWith('rtsp '));
    expect(lines.slice(title, rtsp + 1).filter((l) => PRETTY.test(l))).toEqual([]);
    expect(lines.slice(title, rtsp + 1).map((l) => l.trim().split(/\s{2,}/)[0])).toEqual([
      'ipcam-agent simulator',
      'device id',
      'label code',
      'mqtt',
      'mqtt over ws',
      'console',
      'home assistant',
      'data dir',
      'sd card',
      'watch it',
      'rtsp',
    ]);

    expect(await interrupt(child)).toBe(0);
    expect(out.lines.map((l) => l.replace(/\r$/, ''))).toContainEqual(
      expect.stringMatching(/ INFO {2}stopped cleanly$/),
    );
  });

  it('logs JSON on a terminal when asked (IPCAM_LOG_FORMAT=json)', async () => {
    const { child, out } = await simOnTerminal({ IPCAM_LOG_FORMAT: 'json' });
    running = child;
    await out.waitFor((l) => l.trim().startsWith('rtsp '), 'the banner', 30_000);
    const records = out.records();
    expect(records.some((r) => r.msg === 'agent started')).toBe(true);
    expect(out.lines.filter((l) => PRETTY.test(l))).toEqual([]);
    expect(await interrupt(child)).toBe(0);
  });
});
