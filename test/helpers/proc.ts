import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux we run on). */
export const CLOCK_TICKS = 100;

/** CPU time a process has used so far, user plus system, in seconds. */
export async function cpuSeconds(pid: number): Promise<number> {
  const fields = await statFields(pid);
  // After "pid (comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** The direct children of a process, with their argv. */
export async function childProcesses(pid: number): Promise<{ pid: number; argv: string[] }[]> {
  const out: { pid: number; argv: string[] }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const child = Number(name);
    try {
      const fields = await statFields(child);
      if (Number(fields[1]) !== pid) continue;
      const cmdline = await readFile(`/proc/${child}/cmdline`, 'utf8');
      out.push({ pid: child, argv: cmdline.split('\0').filter((a) => a.length > 0) });
    } catch {
      // Exited between readdir and read.
    }
  }
  return out;
}

async function statFields(pid: number): Promise<string[]> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
