import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface FakeTool<S> {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** A private directory for the backend's secret files. */
  runtimeDir: string;
  state(): Promise<S>;
  setState(state: S): Promise<void>;
  /** Every invocation, in order, as the fake recorded it. */
  calls(): Promise<Record<string, unknown>[]>;
}

/**
 * Installs one of the fakes in `fakes/` as an executable named `name` in `<dir>/bin`, first on the
 * PATH of the returned environment, with its radio state in a JSON file the test controls.
 */
export async function installFake<S>(dir: string, name: 'nmcli' | 'wpa_cli', state: S): Promise<FakeTool<S>> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const exe = join(bin, name);
  await copyFile(join(import.meta.dirname, 'fakes', `${name}.mjs`), exe);
  await chmod(exe, 0o755);
  const statePath = join(dir, `${name}-state.json`);
  const logPath = join(dir, `${name}-log.jsonl`);
  await writeFile(statePath, JSON.stringify(state));
  await writeFile(logPath, '');
  const prefix = name === 'nmcli' ? 'FAKE_NM' : 'FAKE_WPA';
  return {
    dir,
    runtimeDir: join(dir, 'run'),
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      [`${prefix}_STATE`]: statePath,
      [`${prefix}_LOG`]: logPath,
    },
    state: async () => JSON.parse(await readFile(statePath, 'utf8')) as S,
    setState: (s) => writeFile(statePath, JSON.stringify(s)),
    calls: async () =>
      (await readFile(logPath, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
