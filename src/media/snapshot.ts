import { spawn } from 'node:child_process';
import { AgentError } from '../core/errors.js';
import type { StreamHub } from './hub.js';

const START_CODE = Buffer.from([0, 0, 0, 1]);

export interface Snapshot {
  jpeg: Buffer;
  width: number;
  height: number;
}

/**
 * A full-resolution JPEG of the newest picture, made from the encoded stream's cached GOP: the device
 * is never opened a second time, and nothing is captured unless asked. ffmpeg decodes the GOP and
 * encodes only its last frame.
 */
export async function takeSnapshot(hub: StreamHub, ffmpegPath: string, timeoutMs = 5000): Promise<Snapshot> {
  const { video } = hub.cachedGop();
  const track = hub.video;
  if (video.length === 0 || !track)
    throw new AgentError('not_connected', 'no picture yet: the stream has not started');
  const stream = Buffer.concat(video.flatMap((au) => au.nalus.flatMap((nalu) => [START_CODE, nalu])));
  const last = video.length - 1;
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'h264',
    '-i',
    'pipe:0',
    '-vf',
    `select=eq(n\\,${last})`,
    '-frames:v',
    '1',
    '-q:v',
    '3',
    '-f',
    'mjpeg',
    'pipe:1',
  ];
  const jpeg = await new Promise<Buffer>((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.on('error', () => undefined);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const out = Buffer.concat(chunks);
      if (code === 0 && out.length > 0) resolve(out);
      else
        reject(
          new AgentError('internal', `snapshot failed (ffmpeg ${code}): ${stderr.trim().slice(0, 200)}`),
        );
    });
    child.stdin.end(stream);
  });
  return { jpeg, width: track.width, height: track.height };
}
