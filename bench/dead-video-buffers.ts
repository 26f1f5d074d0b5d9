// How much dead video V8 holds before it collects it (docs/deployment.md, "Freed memory returned, a
// certificate of its own, lazy MQTT transports"). A ring keeps 150 Buffers of 16 KB (2.3 MB, a clip
// pre-roll's worth at 2 Mbit/s) while enough small objects are made around them that they reach the old
// generation before they leave the ring, as the daemon's pre-roll and GOP cache do; it prints the peak of
// `process.memoryUsage().arrayBuffers` over the run. With `--flag` the run first sets
// `--external-memory-accounted-in-global-limit` (V8 13, Node 24; Node 20 does not know it):
//
//   node --lite-mode --max-semi-space-size=1 --import tsx bench/dead-video-buffers.ts [--flag] [--frames 30000]

import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';

const { values } = parseArgs({
  options: { flag: { type: 'boolean', default: false }, frames: { type: 'string', default: '30000' } },
});
if (values.flag) setFlagsFromString('--external-memory-accounted-in-global-limit');

const RING = 150;
const CHUNK = 16 * 1024;
const ring: { data: Buffer; at: number }[] = [];
let peak = 0;
const frames = Number(values.frames);
for (let i = 0; i < frames; i++) {
  ring.push({ data: Buffer.allocUnsafeSlow(CHUNK), at: i });
  if (ring.length > RING) ring.shift();
  // The young garbage of a frame's handling (parsing, events, log objects): it is what makes the young
  // generation fill and the ring's Buffers survive into the old one.
  const garbage: { j: number; s: string }[] = [];
  for (let j = 0; j < 600; j++) garbage.push({ j, s: `x${j}` });
  if (i % 25 === 0) await new Promise((resolve) => setImmediate(resolve));
  peak = Math.max(peak, process.memoryUsage().arrayBuffers);
}
const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
console.log(
  `node ${process.version} ${process.execArgv.join(' ')}${values.flag ? ' +flag' : ''}: ${mb(frames * CHUNK)} MB through a ring of ${mb(RING * CHUNK)} MB; ArrayBuffers peaked at ${mb(peak)} MB`,
);
