// The pipe source's per-byte cost: splitting Annex-B into access units (and the hub taking them, SPS
// parsing included), H.264 next to H.265, for the same picture at about the same bitrate. On a
// Cortex-A7 this is CPU the daemon spends on every byte the SoC encoder writes, with no viewer.
// Run: node --import tsx bench/pipe-splitter.ts (figures printed, nothing asserted). Needs ffmpeg with
// libx264 and libx265.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AccessUnitSplitter } from '../src/media/au-splitter.js';
import { StreamHub } from '../src/media/hub.js';
import type { VideoCodec } from '../src/media/types.js';

const run = promisify(execFile);
const SECONDS = 6;
const ROUNDS = 15;
const CHUNK = 64 * 1024;

async function encode(dir: string, codec: VideoCodec): Promise<Buffer> {
  const path = join(dir, `in.${codec}`);
  const encoder =
    codec === 'h265'
      ? ['-c:v', 'libx265', '-x265-params', 'log-level=error:aud=1:keyint=50:bframes=0', '-f', 'hevc']
      : ['-c:v', 'libx264', '-x264-params', 'aud=1:keyint=50', '-bf', '0', '-f', 'h264'];
  await run('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-t', String(SECONDS)],
    ...['-preset', 'ultrafast', '-b:v', '4M', ...encoder, path],
  ]);
  return readFile(path);
}

function measure(stream: Buffer, codec: VideoCodec): { mbPerS: number; ausPerS: number; aus: number } {
  const hub = new StreamHub('main', codec);
  let aus = 0;
  const splitter = new AccessUnitSplitter(
    (au) => {
      aus += 1;
      hub.pushVideo({ kind: 'video', codec, ...au, pts: aus * 3600, at: aus });
    },
    () => undefined,
    {},
    codec,
  );
  const start = process.hrtime.bigint();
  for (let r = 0; r < ROUNDS; r += 1) {
    for (let at = 0; at < stream.length; at += CHUNK) splitter.push(stream.subarray(at, at + CHUNK));
    splitter.end();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { mbPerS: (stream.length * ROUNDS) / 1e6 / seconds, ausPerS: aus / seconds, aus: aus / ROUNDS };
}

const dir = await mkdtemp(join(tmpdir(), 'bench-splitter-'));
try {
  console.log(`720p25, ${SECONDS} s at about 4 Mbit/s, split ${ROUNDS} times in 64 KB chunks (hub included)`);
  for (const codec of ['h264', 'h265'] as const) {
    const stream = await encode(dir, codec);
    measure(stream, codec); // warm-up
    const { mbPerS, ausPerS, aus } = measure(stream, codec);
    const realtimeShare = stream.length / SECONDS / (mbPerS * 1e6);
    console.log(
      `${codec}: ${(stream.length / 1e6).toFixed(2)} MB, ${aus} access units; ${mbPerS.toFixed(0)} MB/s, ` +
        `${ausPerS.toFixed(0)} access units/s; one real-time stream costs ${(realtimeShare * 100).toFixed(3)} % of a core`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
