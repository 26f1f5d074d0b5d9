import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NalType, nalType, splitAnnexB } from '../../src/media/h264.js';
import { type PesPacket, StreamType, TsDemuxer } from '../../src/media/mpegts.js';

/** Runs a real tool (ffmpeg, ffprobe) and returns its output; rejects with stderr on a non-zero exit. */
export function run(cmd: string, args: string[]): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: 60000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr.toString()}`));
        else resolve({ stdout, stderr: stderr.toString() });
      },
    );
  });
}

export async function ffmpeg(args: string[]): Promise<{ stdout: Buffer; stderr: string }> {
  return run('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args]);
}

export interface TempDir {
  path: string;
  remove(): Promise<void>;
}

export async function tempDir(): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), 'ipcam-media-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface TsFixtureOptions {
  size?: string;
  seconds?: number;
  /** Extra libx264 output options, e.g. ['-profile:v', 'high']. */
  video?: string[];
  channels?: number;
  sampleRate?: number;
}

/** The capture pipeline's shape: H.264 with in-band SPS/PPS and AUDs plus AAC, in MPEG-TS, 25 fps. */
export async function makeTs(path: string, options: TsFixtureOptions = {}): Promise<Buffer> {
  const { size = '640x360', seconds = 2, video = [], channels = 1, sampleRate = 48000 } = options;
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${sampleRate}`],
    ...['-t', String(seconds)],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25'],
    ...['-x264-params', 'repeat-headers=1:aud=1', ...video],
    ...['-c:a', 'aac', '-b:a', '64k', '-ac', String(channels)],
    ...['-f', 'mpegts', path],
  ]);
  return readFile(path);
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  codec_tag_string?: string;
  profile?: string;
  level?: number;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  nb_read_packets?: string;
  extradata?: string;
}

export async function probeStreams(path: string, extra: string[] = []): Promise<ProbedStream[]> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-count_packets', ...extra],
    ...['-show_entries', 'stream', '-of', 'json', path],
  ]);
  return (JSON.parse(stdout.toString()) as { streams: ProbedStream[] }).streams;
}

export async function probeStream(path: string, type: 'video' | 'audio'): Promise<ProbedStream> {
  const stream = (await probeStreams(path)).find((s) => s.codec_type === type);
  if (!stream) throw new Error(`no ${type} stream in ${path}`);
  return stream;
}

/** Demuxes a whole file, pushed in the given chunk sizes (cycled) or in one piece. */
export function demux(ts: Buffer, chunkSizes?: number[]): PesPacket[] {
  const out: PesPacket[] = [];
  const demuxer = new TsDemuxer((pes) => out.push(pes));
  if (!chunkSizes || chunkSizes.length === 0) {
    demuxer.push(ts);
  } else {
    for (let pos = 0, i = 0; pos < ts.length; i += 1) {
      const size = chunkSizes[i % chunkSizes.length] ?? 188;
      // Copies, as pipe reads would be: nothing may depend on the chunks sharing one ArrayBuffer.
      demuxer.push(Buffer.from(ts.subarray(pos, pos + size)));
      pos += size;
    }
  }
  demuxer.flush();
  return out;
}

export interface AccessUnit {
  nalus: Buffer[];
  pts: number;
}

/** Video access units as the capture module makes them: NAL units of one PES, AUDs removed. */
export function videoAccessUnits(pes: PesPacket[]): AccessUnit[] {
  return pes
    .filter((p) => p.streamType === StreamType.H264)
    .map((p) => ({
      nalus: splitAnnexB(p.data).filter((n) => nalType(n) !== NalType.AUD),
      pts: p.pts ?? 0,
    }));
}

/** Parsed `-f framemd5` output: one entry per frame, the checksum and the size of the decoded frame. */
export function framemd5(output: Buffer): { size: number; md5: string }[] {
  return output
    .toString()
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const fields = line.split(',').map((f) => f.trim());
      return { size: Number(fields[4]), md5: fields[5] ?? '' };
    });
}
