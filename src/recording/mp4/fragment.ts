import { box, fullBox, u32, u64 } from './boxes.js';

export interface Sample {
  /** Sample bytes as they go into `mdat` (video: 4-byte length-prefixed NAL units). */
  data: Buffer;
  duration: number;
  sync: boolean;
}

export interface TrackRun {
  trackId: number;
  /** Decode time of the first sample in the track's timescale, from the segment's start. */
  baseTime: number;
  samples: Sample[];
}

const SYNC = 0x02000000; // depends on no other sample
const NON_SYNC = 0x01010000; // depends on others, not a sync sample

/**
 * One `moof` + `mdat`: each track's samples with explicit duration, size and flags, and its decode
 * time in `tfdt`, so a fragment is self-describing and a file cut after any fragment still plays.
 * Data offsets count from the start of the `moof` (default-base-is-moof). Pure.
 */
export function fragment(sequence: number, runs: TrackRun[]): Buffer {
  const present = runs.filter((run) => run.samples.length > 0);
  const build = (offsets: number[]) =>
    box('moof', fullBox('mfhd', 0, 0, u32(sequence)), ...present.map((run, i) => traf(run, offsets[i] ?? 0)));
  const moofSize = build(present.map(() => 0)).length;
  const offsets: number[] = [];
  let at = moofSize + 8;
  for (const run of present) {
    offsets.push(at);
    at += run.samples.reduce((sum, s) => sum + s.data.length, 0);
  }
  const moof = build(offsets);
  const mdat = box('mdat', ...present.flatMap((run) => run.samples.map((s) => s.data)));
  return Buffer.concat([moof, mdat]);
}

function traf(run: TrackRun, dataOffset: number): Buffer {
  const tfhd = fullBox('tfhd', 0, 0x020000, u32(run.trackId));
  const tfdt = fullBox('tfdt', 1, 0, u64(run.baseTime));
  const entries = run.samples.map((s) => u32(s.duration, s.data.length, s.sync ? SYNC : NON_SYNC));
  // data offset, then per sample: duration, size, flags
  const trun = fullBox('trun', 0, 0x000701, u32(run.samples.length, dataOffset), ...entries);
  return box('traf', tfhd, tfdt, trun);
}

/** H.264/H.265 access unit as an MP4 sample: each NAL unit with its 4-byte length. */
export function lengthPrefixed(nalus: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const nalu of nalus) parts.push(u32(nalu.length), nalu);
  return Buffer.concat(parts);
}
