// Leaves the C heap full of free holes, as a daemon's does after video went by: 32 MB of 32 KB Buffers
// (malloc'd by Node, below glibc's mmap threshold) between small Buffers that stay, so glibc cannot give
// the freed ones back by trimming its top. Then prints the process's anonymous memory before and after
// one call of the addon named on the command line (`--expose-gc` needed).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const addon = createRequire(import.meta.url)(process.argv[2]);
const anonymousKb = () =>
  Number(/^Anonymous:\s+(\d+)/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? Number.NaN);

const baseline = process.memoryUsage().arrayBuffers;
let big = [];
const kept = [];
for (let i = 0; i < 1024; i++) {
  big.push(Buffer.allocUnsafeSlow(32 * 1024).fill(i));
  kept.push(Buffer.allocUnsafeSlow(64).fill(i));
}
const held = anonymousKb();
big = [];
// V8 frees array buffers' memory after a collection, possibly on another thread: collect until the
// backing stores are accounted as gone.
while (process.memoryUsage().arrayBuffers > baseline + 1024 * 1024) {
  globalThis.gc();
  await new Promise((resolve) => setImmediate(resolve));
}
const freed = anonymousKb();
const returned = addon.returnFreeMemory();
const after = anonymousKb();
process.stdout.write(
  `${JSON.stringify({ malloc: addon.whichMalloc(), held, freed, returned, after, kept: kept.length })}\n`,
);
