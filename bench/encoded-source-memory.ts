// Memory of an encoded (`pipe`) source in three set-ups, RSS and PSS from /proc/<pid>/smaps_rollup of
// the daemon and of every child it keeps (the writers stand for the camera's encoder and scaler and
// are shown apart: on a camera they are the vendor's, not ours):
//   A. analysis by decoding the sub stream, standby snapshot decoder on
//   B. analysis by decoding the sub stream, standby off (the default with an encoded source)
//   C. analysis frames from the SoC scaler's output, standby off: no decoder at all
// Run: node --import tsx bench/encoded-source-memory.ts   (figures printed, nothing asserted)
import { readFile } from 'node:fs/promises';
import { startMediaDevice } from '../test/helpers/media.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { childProcesses } from '../test/helpers/proc.js';

const SETTLE_MS = 15_000;
const writer = (size: string, fps: number, kbps: number) => [
  ...['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
  ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}`, '-c:v', 'libx264', '-preset', 'ultrafast'],
  ...[
    '-b:v',
    `${kbps}k`,
    '-g',
    String(fps * 2),
    '-bf',
    '0',
    '-x264-params',
    'repeat-headers=1',
    '-f',
    'h264',
    'pipe:1',
  ],
];
const SCALER = [
  ...['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
  ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=5', '-pix_fmt', 'nv12', '-f', 'rawvideo', 'pipe:1'],
];

async function rollup(pid: number): Promise<{ rss: number; pss: number }> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 'NaN');
  return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024 };
}

function role(argv: string[]): string {
  const line = argv.join(' ');
  if (line.includes('testsrc2=size=320x180:rate=5')) return 'writer: SoC scaler (not ours)';
  if (line.includes('testsrc2')) return 'writer: camera encoder (not ours)';
  if (line.includes('-f mpegts -i pipe:0')) return 'standby snapshot decoder';
  if (line.includes('-f h264 -framerate')) return 'analysis decoder (sub stream)';
  return argv.slice(0, 3).join(' ');
}

const broker = await Mosquitto.start();
const setups: [string, Record<string, unknown>][] = [
  ['A. decoder + standby', { snapshot: { standby: true } }],
  ['B. decoder, no standby', {}],
  ['C. scaler, no standby', { analysis: { input: { command: SCALER, format: 'nv12' } } }],
];
try {
  for (const [name, extra] of setups) {
    const cam = await startMediaDevice(broker.url, {
      media: {
        source: {
          kind: 'pipe',
          main: { command: writer('1280x720', 15, 2000), fps: 15 },
          sub: { command: writer('640x360', 10, 400), fps: 10 },
        },
        ...extra,
      },
    });
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const pid = cam.daemon.child.pid ?? 0;
    const rows: [string, { rss: number; pss: number }][] = [['daemon (node)', await rollup(pid)]];
    for (const c of await childProcesses(pid)) rows.push([role(c.argv), await rollup(c.pid)]);
    const ours = rows.filter(([r]) => !r.includes('not ours'));
    const sum = ours.reduce((s, [, m]) => ({ rss: s.rss + m.rss, pss: s.pss + m.pss }), { rss: 0, pss: 0 });
    console.log(`\n${name}`);
    for (const [r, m] of rows)
      console.log(
        `  ${r.padEnd(36)} RSS ${m.rss.toFixed(1).padStart(6)} MB  PSS ${m.pss.toFixed(1).padStart(6)} MB`,
      );
    console.log(
      `  ${'ours in all'.padEnd(36)} RSS ${sum.rss.toFixed(1).padStart(6)} MB  PSS ${sum.pss.toFixed(1).padStart(6)} MB`,
    );
    await cam.daemon.kill();
  }
} finally {
  await broker.stop();
}
