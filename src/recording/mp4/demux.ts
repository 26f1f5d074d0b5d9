import { AUDIO_TRACK, VIDEO_TIMESCALE, VIDEO_TRACK } from './init-segment.js';

/**
 * Reading back what this muxer wrote (init-segment.ts, fragment.ts), for playback. The card is
 * hostile: every size and count is checked against the bytes that are there, and anything outside
 * this muxer's layout (other track ids, a base data offset, missing sample sizes) is refused with
 * an error rather than guessed at. Pure.
 */

export interface DemuxedInit {
  video:
    | { codec: 'h264'; width: number; height: number; sps: Buffer; pps: Buffer }
    | { codec: 'h265'; width: number; height: number; vps: Buffer; sps: Buffer; pps: Buffer };
  audio?:
    | { codec: 'aac'; sampleRate: number; channels: number; config: Buffer }
    | { codec: 'pcmu' | 'pcma'; sampleRate: number; channels: number };
  /** The timescale of each track id. */
  timescales: Map<number, number>;
  /** The `stsd` bytes of each track: two segments whose are equal can be joined. */
  descriptions: Buffer;
}

export interface DemuxedSample {
  track: 'video' | 'audio';
  /** Decode time in the track's timescale from the segment's start. */
  time: number;
  duration: number;
  sync: boolean;
  data: Buffer;
}

export class Mp4FormatError extends Error {
  readonly code = 'mp4_format';
}

interface Box {
  type: string;
  body: Buffer;
  /** Offset of the box header within the buffer it was found in. */
  at: number;
}

/** Samples in one fragment over this are not what this muxer writes (it caps at 300 video + 1200 audio). */
const MAX_SAMPLES = 4096;

function* boxes(buf: Buffer): Generator<Box> {
  let at = 0;
  while (at + 8 <= buf.length) {
    let size = buf.readUInt32BE(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > buf.length) return;
      const big = buf.readBigUInt64BE(at + 8);
      if (big > BigInt(buf.length)) return;
      size = Number(big);
      header = 16;
    } else if (size === 0) size = buf.length - at;
    if (size < header || at + size > buf.length) return;
    yield { type: buf.toString('latin1', at + 4, at + 8), body: buf.subarray(at + header, at + size), at };
    at += size;
  }
}

function child(buf: Buffer, type: string): Buffer | undefined {
  for (const b of boxes(buf)) if (b.type === type) return b.body;
  return undefined;
}

function path(buf: Buffer, ...types: string[]): Buffer | undefined {
  let at: Buffer | undefined = buf;
  for (const type of types) {
    if (!at) return undefined;
    at = child(at, type);
  }
  return at;
}

/** The tracks of an init segment (`ftyp` + `moov`). Throws Mp4FormatError on anything else. */
export function demuxInit(init: Buffer): DemuxedInit {
  const moov = child(init, 'moov');
  if (!moov) throw new Mp4FormatError('no moov');
  let video: DemuxedInit['video'] | undefined;
  let audio: DemuxedInit['audio'];
  const timescales = new Map<number, number>();
  const descriptions: Buffer[] = [];
  for (const trak of boxes(moov)) {
    if (trak.type !== 'trak') continue;
    const tkhd = child(trak.body, 'tkhd');
    const mdhd = path(trak.body, 'mdia', 'mdhd');
    const stsd = path(trak.body, 'mdia', 'minf', 'stbl', 'stsd');
    if (!tkhd || !mdhd || !stsd || tkhd.length < 16 || mdhd.length < 16 || stsd.length < 8) continue;
    const idAt = tkhd[0] === 1 ? 20 : 12;
    const scaleAt = mdhd[0] === 1 ? 20 : 12;
    if (tkhd.length < idAt + 4 || mdhd.length < scaleAt + 4) throw new Mp4FormatError('short track header');
    const id = tkhd.readUInt32BE(idAt);
    const timescale = mdhd.readUInt32BE(scaleAt);
    if (timescale === 0) throw new Mp4FormatError('track timescale 0');
    timescales.set(id, timescale);
    descriptions.push(stsd);
    const entry = boxes(stsd.subarray(8)).next().value;
    if (!entry) continue;
    if (id === VIDEO_TRACK && (entry.type === 'avc1' || entry.type === 'hvc1' || entry.type === 'hev1'))
      video = visual(entry);
    else if (id === AUDIO_TRACK && entry.type === 'mp4a') audio = mp4a(entry.body, timescale);
    else if (id === AUDIO_TRACK && (entry.type === 'ulaw' || entry.type === 'alaw'))
      audio = g711(entry.body, entry.type === 'ulaw' ? 'pcmu' : 'pcma', timescale);
  }
  if (!video) throw new Mp4FormatError('no video track');
  if (timescales.get(VIDEO_TRACK) !== VIDEO_TIMESCALE) throw new Mp4FormatError('video timescale');
  return { video, ...(audio ? { audio } : {}), timescales, descriptions: Buffer.concat(descriptions) };
}

/** VisualSampleEntry: 78 bytes of fields, then boxes (avcC / hvcC). */
function visual(entry: Box): DemuxedInit['video'] {
  const b = entry.body;
  if (b.length < 78) throw new Mp4FormatError('short visual sample entry');
  const width = b.readUInt16BE(24);
  const height = b.readUInt16BE(26);
  if (entry.type === 'avc1') {
    const avcC = child(b.subarray(78), 'avcC');
    if (!avcC) throw new Mp4FormatError('no avcC');
    const { sps, pps } = avcConfig(avcC);
    return { codec: 'h264', width, height, sps, pps };
  }
  const hvcC = child(b.subarray(78), 'hvcC');
  if (!hvcC) throw new Mp4FormatError('no hvcC');
  const sets = hevcConfig(hvcC);
  return { codec: 'h265', width, height, ...sets };
}

function need(buf: Buffer, at: number, n: number): void {
  if (at + n > buf.length) throw new Mp4FormatError('truncated codec configuration');
}

function avcConfig(c: Buffer): { sps: Buffer; pps: Buffer } {
  need(c, 0, 6);
  let at = 5;
  const spsCount = (c[at++] as number) & 0x1f;
  const sps: Buffer[] = [];
  for (let i = 0; i < spsCount; i++) {
    need(c, at, 2);
    const n = c.readUInt16BE(at);
    need(c, at + 2, n);
    sps.push(c.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  need(c, at, 1);
  const ppsCount = c[at++] as number;
  const pps: Buffer[] = [];
  for (let i = 0; i < ppsCount; i++) {
    need(c, at, 2);
    const n = c.readUInt16BE(at);
    need(c, at + 2, n);
    pps.push(c.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  const [s, p] = [sps[0], pps[0]];
  if (!s || !p || s.length < 4 || p.length < 1) throw new Mp4FormatError('avcC without SPS/PPS');
  return { sps: Buffer.from(s), pps: Buffer.from(p) };
}

/** HEVCDecoderConfigurationRecord: 22 bytes, then arrays of VPS/SPS/PPS (ISO/IEC 14496-15 8.3.3). */
function hevcConfig(c: Buffer): { vps: Buffer; sps: Buffer; pps: Buffer } {
  need(c, 0, 23);
  const count = c[22] as number;
  let at = 23;
  const found = new Map<number, Buffer>();
  for (let i = 0; i < count; i++) {
    need(c, at, 3);
    const type = (c[at] as number) & 0x3f;
    const n = c.readUInt16BE(at + 1);
    at += 3;
    for (let j = 0; j < n; j++) {
      need(c, at, 2);
      const len = c.readUInt16BE(at);
      need(c, at + 2, len);
      if (!found.has(type)) found.set(type, Buffer.from(c.subarray(at + 2, at + 2 + len)));
      at += 2 + len;
    }
  }
  const [vps, sps, pps] = [found.get(32), found.get(33), found.get(34)];
  if (!vps || !sps || !pps) throw new Mp4FormatError('hvcC without VPS/SPS/PPS');
  return { vps, sps, pps };
}

/** AudioSampleEntry (28 bytes) then `esds` with the DecoderSpecificInfo (tag 5). */
function mp4a(b: Buffer, timescale: number): DemuxedInit['audio'] {
  if (b.length < 28) return undefined;
  const channels = b.readUInt16BE(16);
  const esds = child(b.subarray(28), 'esds');
  if (!esds || esds.length < 4) return undefined;
  const config = decoderSpecificInfo(esds.subarray(4));
  if (!config || config.length === 0) return undefined;
  return { codec: 'aac', sampleRate: timescale, channels, config: Buffer.from(config) };
}

/** G.711 (QuickTime `ulaw`/`alaw` entries): what this muxer writes is 8 kHz; one channel or two. */
function g711(b: Buffer, codec: 'pcmu' | 'pcma', timescale: number): DemuxedInit['audio'] {
  if (b.length < 28) return undefined;
  const channels = b.readUInt16BE(16);
  if (channels < 1 || channels > 2 || timescale !== 8000) return undefined;
  return { codec, sampleRate: timescale, channels };
}

function decoderSpecificInfo(d: Buffer): Buffer | undefined {
  let at = 0;
  // Descriptors nest: ES (3) > DecoderConfig (4) > DecoderSpecificInfo (5), each with a 1-4 byte length.
  while (at + 2 <= d.length) {
    const tag = d[at++] as number;
    let len = 0;
    for (let i = 0; i < 4 && at < d.length; i++) {
      const byte = d[at++] as number;
      len = (len << 7) | (byte & 0x7f);
      if (!(byte & 0x80)) break;
    }
    if (tag === 5) return at + len <= d.length ? d.subarray(at, at + len) : undefined;
    if (tag === 3)
      at += 3; // ES_ID, flags (no stream dependence, URL or OCR in ours)
    else if (tag === 4) at += 13;
    else at += len;
  }
  return undefined;
}

/**
 * The samples of one fragment (`moof` + `mdat`, as the scan found them), video and audio, each
 * with its decode time. Sample bytes are views into `bytes`.
 */
export function demuxFragment(bytes: Buffer): DemuxedSample[] {
  const top = [...boxes(bytes)];
  const moof = top.find((b) => b.type === 'moof');
  if (!moof) throw new Mp4FormatError('no moof');
  const moofStart = moof.at;
  const out: DemuxedSample[] = [];
  for (const traf of boxes(moof.body)) {
    if (traf.type !== 'traf') continue;
    const tfhd = child(traf.body, 'tfhd');
    const tfdt = child(traf.body, 'tfdt');
    if (!tfhd || tfhd.length < 8) throw new Mp4FormatError('no tfhd');
    const flags = tfhd.readUInt32BE(0) & 0xffffff;
    const trackId = tfhd.readUInt32BE(4);
    const track = trackId === VIDEO_TRACK ? 'video' : trackId === AUDIO_TRACK ? 'audio' : undefined;
    if (!track) continue;
    if (flags & 0x1) throw new Mp4FormatError('base data offset not supported');
    let at = 8;
    at += flags & 0x2 ? 4 : 0;
    let defDuration = 0;
    let defSize = 0;
    let defFlags = 0;
    if (flags & 0x8) {
      if (at + 4 > tfhd.length) throw new Mp4FormatError('short tfhd');
      defDuration = tfhd.readUInt32BE(at);
      at += 4;
    }
    if (flags & 0x10) {
      if (at + 4 > tfhd.length) throw new Mp4FormatError('short tfhd');
      defSize = tfhd.readUInt32BE(at);
      at += 4;
    }
    if (flags & 0x20) {
      if (at + 4 > tfhd.length) throw new Mp4FormatError('short tfhd');
      defFlags = tfhd.readUInt32BE(at);
    }
    let time = 0;
    if (tfdt && tfdt.length >= 8)
      time = tfdt[0] === 1 && tfdt.length >= 12 ? Number(tfdt.readBigUInt64BE(4)) : tfdt.readUInt32BE(4);
    for (const trun of boxes(traf.body)) {
      if (trun.type !== 'trun') continue;
      time = readTrun(trun.body, bytes, moofStart, track, time, { defDuration, defSize, defFlags }, out);
    }
  }
  return out;
}

function readTrun(
  b: Buffer,
  bytes: Buffer,
  moofStart: number,
  track: 'video' | 'audio',
  startTime: number,
  defaults: { defDuration: number; defSize: number; defFlags: number },
  out: DemuxedSample[],
): number {
  if (b.length < 8) throw new Mp4FormatError('short trun');
  const flags = b.readUInt32BE(0) & 0xffffff;
  const count = b.readUInt32BE(4);
  if (count > MAX_SAMPLES || out.length + count > MAX_SAMPLES) throw new Mp4FormatError('too many samples');
  if (!(flags & 0x1) || b.length < 12) throw new Mp4FormatError('trun without data offset');
  let at = 8;
  const dataOffset = b.readInt32BE(at);
  at += 4;
  let firstFlags: number | undefined;
  if (flags & 0x4) {
    if (at + 4 > b.length) throw new Mp4FormatError('short trun');
    firstFlags = b.readUInt32BE(at);
    at += 4;
  }
  const per = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length * 4;
  if (at + count * per > b.length) throw new Mp4FormatError('short trun');
  let data = moofStart + dataOffset;
  let time = startTime;
  for (let i = 0; i < count; i++) {
    let duration = defaults.defDuration;
    let size = defaults.defSize;
    let sampleFlags = i === 0 && firstFlags !== undefined ? firstFlags : defaults.defFlags;
    if (flags & 0x100) {
      duration = b.readUInt32BE(at);
      at += 4;
    }
    if (flags & 0x200) {
      size = b.readUInt32BE(at);
      at += 4;
    }
    if (flags & 0x400) {
      sampleFlags = b.readUInt32BE(at);
      at += 4;
    }
    if (flags & 0x800) at += 4; // composition offset: none here (no B-frames), ignored
    if (size === 0 || data < 0 || data + size > bytes.length) throw new Mp4FormatError('sample outside mdat');
    out.push({
      track,
      time,
      duration,
      sync: (sampleFlags & 0x00010000) === 0,
      data: bytes.subarray(data, data + size),
    });
    data += size;
    time += duration;
  }
  return time;
}

/** A video sample's NAL units (4-byte lengths). Throws on a length that runs past the sample. */
export function splitLengthPrefixed(sample: Buffer): Buffer[] {
  const nalus: Buffer[] = [];
  let at = 0;
  while (at < sample.length) {
    if (at + 4 > sample.length) throw new Mp4FormatError('truncated NAL length');
    const n = sample.readUInt32BE(at);
    if (n === 0 || at + 4 + n > sample.length) throw new Mp4FormatError('NAL unit outside its sample');
    nalus.push(sample.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return nalus;
}
