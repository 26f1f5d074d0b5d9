import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/daemon.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it: the built bin, real process, its exit code and both streams. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 20000 },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

const COMMANDS = ['run', 'sim', 'token', 'label', 'release'];

describe('the newcomer’s first minutes: ipcam-agent --version and --help', () => {
  it('--version, -V and version print the package version and exit 0', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V', 'version']) {
      expect(await cli([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('--help, -h and help list every command on stdout and exit 0', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const run = await cli([flag]);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/^ipcam-agent \d+\.\d+\.\d+: /);
      expect(run.stdout).toContain('usage: ipcam-agent <command> [options]');
      for (const command of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'));
    }
  });

  for (const command of COMMANDS) {
    it(`${command} --help and -h print its usage and options on stdout and exit 0`, async () => {
      const long = await cli([command, '--help']);
      expect(long.code).toBe(0);
      expect(long.stderr).toBe('');
      expect(long.stdout).toMatch(new RegExp(`^usage: ipcam-agent ${command} `));
      expect(long.stdout).toMatch(/^ {2}-h, --help +show this help$/m);
      expect(await cli([command, '-h'])).toEqual(long);
      expect(await cli(['help', command])).toEqual(long);
      // With other (even incomplete) arguments, help still wins: `release --help` needs no --image.
      const option = command === 'run' ? '--config' : '--data-dir';
      expect(await cli([command, option, '/nonexistent', '--help'])).toEqual(long);
    });
  }

  it('names the options of sim, including --video and --log-format', async () => {
    const { stdout } = await cli(['sim', '--help']);
    for (const option of [
      '--data-dir <dir>',
      '--video <file>',
      '--unprovisioned',
      '--log-format json|pretty',
    ]) {
      expect(stdout).toContain(`  ${option}`);
    }
  });

  const mistakes: { args: string[]; env?: NodeJS.ProcessEnv; line: string }[] = [
    {
      args: ['release', '--bogus'],
      line: 'release: unknown option --bogus (see ipcam-agent release --help)',
    },
    { args: ['sim', '--vidoe', 'x.mp4'], line: 'sim: unknown option --vidoe (see ipcam-agent sim --help)' },
    { args: ['sim', 'extra'], line: 'sim: unexpected argument "extra" (see ipcam-agent sim --help)' },
    { args: ['sim', '--video'], line: 'sim: --video needs a value (see ipcam-agent sim --help)' },
    { args: ['--verbose'], line: 'unknown option "--verbose" (see ipcam-agent --help)' },
    { args: ['start'], line: 'unknown command "start" (see ipcam-agent --help)' },
    { args: ['help', 'start'], line: 'unknown command "start" (see ipcam-agent --help)' },
    { args: ['run'], line: 'run: --config <file> is required (see ipcam-agent run --help)' },
    {
      args: ['sim', '--rtsp-port', '70000'],
      line: '--rtsp-port: expected a port number 0-65535, got "70000"',
    },
    { args: ['sim', '--log-format', 'xml'], line: '--log-format: expected json or pretty, got "xml"' },
    {
      args: ['sim'],
      env: { IPCAM_LOG_FORMAT: 'yaml' },
      line: 'IPCAM_LOG_FORMAT: expected json or pretty, got "yaml"',
    },
  ];
  for (const { args, env, line } of mistakes) {
    it(`ipcam-agent ${args.join(' ')}${env ? ` (${Object.entries(env)[0]?.join('=')})` : ''}: one line, exit 2`, async () => {
      expect(await cli(args, env)).toEqual({ code: 2, stdout: '', stderr: `ipcam-agent: ${line}\n` });
    });
  }

  it('without a command prints the usage on stderr and exits 2', async () => {
    const run = await cli([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('usage: ipcam-agent <command> [options]');
  });
});
