// Download-and-verify of a 256 MB firmware image from a local HTTPS server: the daemon's downloader
// (hash while writing, Range-capable, constant memory) next to `curl -s URL | sha256sum` in the same
// run. Goals: at least 0.8x curl's throughput, RSS growth under 16 MB. Run: npm run bench.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { makePki } from '../test/helpers/pki.js';
import { ImageServer } from '../test/ota/helpers/image-server.js';

const SIZE = 256 * 1024 * 1024;
const RUNS = 3;
const run = promisify(execFile);

async function makeImage(path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'w');
  for (let written = 0; written < SIZE; written += 4 * 1024 * 1024) {
    const chunk = randomBytes(4 * 1024 * 1024);
    hash.update(chunk);
    await handle.write(chunk);
  }
  await handle.close();
  return hash.digest('hex');
}

interface AgentRun {
  ms: number;
  /** Peak RSS over RSS before the first request: TLS set-up included. */
  jobGrowthMb: number;
  /** Peak RSS over RSS after a small warm-up download: what the transfer itself costs. */
  transferGrowthMb: number;
  ok: boolean;
}

function agentRun(
  url: string,
  sha256: string,
  ca: string,
  file: string,
  warm: { url: string; size: number },
): Promise<AgentRun> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        resolve(import.meta.dirname, 'ota-download-child.ts'),
        url,
        String(SIZE),
        sha256,
        ca,
        file,
        warm.url,
        String(warm.size),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('close', (code) => {
      if (code !== 0) return fail(new Error(`child exited ${code}`));
      const r = JSON.parse(out) as {
        ms: number;
        coldKb: number;
        warmKb: number;
        peakKb: number;
        ok: boolean;
      };
      done({
        ms: r.ms,
        jobGrowthMb: (r.peakKb - r.coldKb) / 1024,
        transferGrowthMb: (r.peakKb - r.warmKb) / 1024,
        ok: r.ok,
      });
    });
  });
}

async function curlRun(url: string, sha256: string, ca: string): Promise<{ ms: number; ok: boolean }> {
  const began = performance.now();
  // Two processes joined by a pipe, as a shell would, without a shell: curl's stdout into sha256sum.
  const curl = spawn('curl', ['-s', '--cacert', ca, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sum = spawn('sha256sum', [], { stdio: [curl.stdout, 'pipe', 'inherit'] });
  let out = '';
  sum.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await new Promise((r) => sum.once('close', r));
  return { ms: performance.now() - began, ok: out.startsWith(sha256) };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

await run('curl', ['--version']);
const pki = await makePki('bench');
const server = await ImageServer.start(pki.serverCert, pki.serverKey);
const imagePath = join(tmpdir(), `ota-bench-${process.pid}.img`);
const sha256 = await makeImage(imagePath);
const url = server.serve('/fw.img', imagePath);
const warmPath = join(tmpdir(), `ota-bench-${process.pid}.warm`);
await writeFile(warmPath, randomBytes(64 * 1024));
const warm = { url: server.serve('/warm.img', warmPath), size: 64 * 1024 };
const agent: AgentRun[] = [];
const curl: { ms: number; ok: boolean }[] = [];
try {
  for (let i = 0; i < RUNS; i += 1) {
    curl.push(await curlRun(url, sha256, pki.caCert));
    agent.push(
      await agentRun(url, sha256, pki.caCert, join(tmpdir(), `ota-bench-${process.pid}.part`), warm),
    );
  }
} finally {
  await server.close();
  await rm(imagePath, { force: true });
  await rm(warmPath, { force: true });
}
if (!agent.every((r) => r.ok) || !curl.every((r) => r.ok)) throw new Error('a download did not verify');
const mbps = (ms: number) => SIZE / 1024 / 1024 / (ms / 1000);
const agentMbps = mbps(median(agent.map((r) => r.ms)));
const curlMbps = mbps(median(curl.map((r) => r.ms)));
console.log(`ota download+verify, 256 MB over local HTTPS (median of ${RUNS}, node ${process.version})`);
console.log(`  curl -s URL | sha256sum          ${curlMbps.toFixed(0).padStart(6)} MB/s`);
const worst = (pick: (r: AgentRun) => number) => Math.max(...agent.map(pick)).toFixed(1);
console.log(
  `  ipcam-agent downloader           ${agentMbps.toFixed(0).padStart(6)} MB/s  (${(agentMbps / curlMbps).toFixed(2)}x curl)`,
);
console.log(
  `  RSS growth (worst run)           ${worst((r) => r.transferGrowthMb)} MB during the transfer, ${worst((r) => r.jobGrowthMb)} MB with TLS set-up`,
);
console.log('goals: at least 0.8x curl, RSS growth under 16 MB');
