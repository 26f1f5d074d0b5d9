import { box, fullBox, MATRIX, u16, u32, zeros } from './boxes.js';
import { sampleEntry, type TrackCodec } from './sample-entry.js';

/** Track ids as this muxer writes them: the reader finds video and audio by these. */
export const VIDEO_TRACK = 1;
export const AUDIO_TRACK = 2;
export const VIDEO_TIMESCALE = 90000;

export interface InitTracks {
  video: Extract<TrackCodec, { kind: 'video' }>;
  audio?: Extract<TrackCodec, { kind: 'audio' }>;
}

/**
 * `ftyp` + `moov` of a fragmented MP4 with empty sample tables and `mvex`, so every sample lives in
 * the `moof`/`mdat` fragments that follow. Pure.
 */
export function initSegment(tracks: InitTracks): Buffer {
  const ftyp = box(
    'ftyp',
    Buffer.from('isom', 'latin1'),
    u32(0x200),
    Buffer.from('isomiso5iso6avc1mp41', 'latin1'),
  );
  const traks = [trak(VIDEO_TRACK, VIDEO_TIMESCALE, tracks.video)];
  // mehd: the fragments' total duration, 0 until the segment closes (see mp4/duration.ts).
  const trexes = [fullBox('mehd', 0, 0, u32(0)), trex(VIDEO_TRACK)];
  if (tracks.audio) {
    traks.push(trak(AUDIO_TRACK, tracks.audio.sampleRate, tracks.audio));
    trexes.push(trex(AUDIO_TRACK));
  }
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    u32(0, 0, 1000, 0), // creation, modification, timescale, duration (fragments say)
    u32(0x00010000),
    u16(0x0100, 0),
    zeros(8),
    MATRIX,
    zeros(24),
    u32(tracks.audio ? AUDIO_TRACK + 1 : VIDEO_TRACK + 1),
  );
  return Buffer.concat([ftyp, box('moov', mvhd, ...traks, box('mvex', ...trexes))]);
}

function trak(id: number, timescale: number, track: TrackCodec): Buffer {
  const video = track.kind === 'video';
  const tkhd = fullBox(
    'tkhd',
    0,
    3, // enabled, in movie
    u32(0, 0, id, 0, 0),
    zeros(8),
    u16(0, 0, video ? 0 : 0x0100, 0),
    MATRIX,
    u32(video ? track.width * 0x10000 : 0, video ? track.height * 0x10000 : 0),
  );
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, timescale, 0), u16(0x55c4, 0)); // language und
  const hdlr = fullBox(
    'hdlr',
    0,
    0,
    u32(0),
    Buffer.from(video ? 'vide' : 'soun', 'latin1'),
    zeros(12),
    Buffer.from(video ? 'VideoHandler\0' : 'SoundHandler\0', 'latin1'),
  );
  const header = video ? fullBox('vmhd', 0, 1, zeros(8)) : fullBox('smhd', 0, 0, zeros(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), sampleEntry(track)),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  return box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', header, dinf, stbl)));
}

function trex(id: number): Buffer {
  return fullBox('trex', 0, 0, u32(id, 1, 0, 0, 0));
}
