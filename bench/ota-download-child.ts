// Child of bench/ota-download.ts: one download-and-verify through the daemon's own code, in its own
// process so that its peak RSS (VmHWM) is its own. A small download first loads TLS and HTTPS code and
// makes the first connection, so "transfer" growth is what the 256 MB themselves cost. Prints JSON.
import { readFile, rm } from 'node:fs/promises';
import { download } from '../src/ota/download.js';

const [url, size, sha256, caFile, file, warmUrl, warmSize] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];

async function rssKb(field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 'NaN');
}

const ca = await readFile(caFile);
const common = { ca, stallTimeoutMs: 30000, retryInitialMs: 100, retryMaxMs: 1000, maxAttempts: 3 };
await rm(file, { force: true });
const coldKb = await rssKb('VmRSS');
await download({
  ...common,
  url: warmUrl,
  size: Number(warmSize),
  file,
  signal: new AbortController().signal,
});
await rm(file, { force: true });
const warmKb = await rssKb('VmRSS');
const began = performance.now();
const result = await download({
  ...common,
  url,
  size: Number(size),
  file,
  signal: new AbortController().signal,
});
const ms = performance.now() - began;
const peakKb = await rssKb('VmHWM');
await rm(file, { force: true });
console.log(JSON.stringify({ ms, coldKb, warmKb, peakKb, ok: result.sha256 === sha256 }));
