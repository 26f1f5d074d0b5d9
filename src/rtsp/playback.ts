import type { Logger } from '../core/logger.js';
import type { AudioTrackInfo, StreamName, VideoTrackInfo } from '../media/types.js';
import type { DemuxedInit } from '../recording/mp4/demux.js';
import { compactIso } from '../recording/naming.js';
import { PlaybackCursor } from '../recording/playback/cursor.js';
import { MAX_PLAYBACK_RANGE_MS, parsePlaybackTime } from '../recording/playback/time.js';
import type { RecordingReader } from '../recording/reader.js';
import type { Reply } from './connection.js';
import { PlaybackSession, SCALES } from './playback-session.js';
import { buildSdp } from './sdp.js';

/** The recordings, while the card is usable; undefined otherwise (503). */
export type PlaybackLibrary = () => RecordingReader | undefined;

/** Segments one range may span (a month of one-minute segments). */
const MAX_SEGMENTS = 31 * 24 * 60;

export interface PlaybackUrl {
  start: number;
  end: number;
  stream: StreamName;
  /** `trackID=n` at the end of the path (SETUP). */
  track: number | undefined;
}

export function isPlaybackPath(path: string): boolean {
  return path === '/playback' || path.startsWith('/playback/');
}

/**
 * `/playback?start=<ISO>&end=<ISO>[&stream=main|sub]` (what an owner types), or the form the SDP's
 * Content-Base names for SETUP and PLAY: `/playback/<start>/<end>/<stream>[/trackID=n]` with compact
 * times. Undefined when it is not a valid range.
 */
export function parsePlaybackUrl(path: string, query: string): PlaybackUrl | undefined {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] !== 'playback' || parts.length > 5) return undefined;
  let start: number | undefined;
  let end: number | undefined;
  let stream: string | undefined;
  let rest: string[];
  if (parts.length >= 4) {
    start = parsePlaybackTime(parts[1]);
    end = parsePlaybackTime(parts[2]);
    stream = parts[3];
    rest = parts.slice(4);
  } else {
    if (query.length > 512) return undefined;
    const params = new URLSearchParams(query);
    start = parsePlaybackTime(params.get('start') ?? undefined);
    end = parsePlaybackTime(params.get('end') ?? undefined);
    stream = params.get('stream') ?? 'main';
    rest = parts.slice(1);
  }
  if (start === undefined || end === undefined || end <= start || end - start > MAX_PLAYBACK_RANGE_MS)
    return undefined;
  if (stream !== 'main' && stream !== 'sub') return undefined;
  let track: number | undefined;
  if (rest.length === 1) {
    const m = /^trackID=([01])$/.exec(rest[0] as string);
    if (!m) return undefined;
    track = Number(m[1]);
  } else if (rest.length > 1) return undefined;
  return { start, end, stream, track };
}

/** The path SETUP and PLAY use for a range (the SDP's Content-Base). */
export function playbackBase(url: PlaybackUrl): string {
  return `/playback/${compactIso(url.start)}/${compactIso(url.end)}/${url.stream}`;
}

/** `npt=<s>-[<s>]` (seconds from the range start) or `clock=<ISO>-[<ISO>]`: the recorded time to seek to. */
export function parseRange(header: string | undefined, rangeStart: number): number | undefined | 'invalid' {
  if (header === undefined) return undefined;
  const value = header.split(';')[0]?.trim() ?? '';
  if (value.length > 100) return 'invalid';
  const npt = /^npt\s*=\s*(now|\d{1,9}(?:\.\d{1,9})?)?\s*-\s*(\d{1,9}(?:\.\d{1,9})?)?$/.exec(value);
  if (npt) {
    if (npt[1] === undefined || npt[1] === 'now') return undefined;
    return rangeStart + Math.round(Number(npt[1]) * 1000);
  }
  const clock = /^clock\s*=\s*([0-9TZ:.+-]+?)\s*-\s*([0-9TZ:.+-]*)$/.exec(value);
  if (clock) {
    const at = parsePlaybackTime(clock[1]) ?? parseClockCompact(clock[1]);
    return at === undefined ? 'invalid' : at;
  }
  return 'invalid';
}

/** RFC 2326 3.7 absolute time: `19961108T143720.25Z`. */
function parseClockCompact(text: string | undefined): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3})\d*)?Z$/.exec(text ?? '');
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as number[];
  const ms = Date.UTC(
    y ?? 0,
    (mo ?? 1) - 1,
    d ?? 1,
    h ?? 0,
    mi ?? 0,
    s ?? 0,
    Number((m[7] ?? '0').padEnd(3, '0')),
  );
  return Number.isFinite(ms) ? ms : undefined;
}

/** The scale to use for what the client asked: 1, 2 or 4, the largest not above the request. */
export function chooseScale(header: string | undefined): number {
  const asked = Number(header?.trim());
  if (!Number.isFinite(asked)) return 1;
  let chosen = 1;
  for (const s of SCALES) if (s <= asked) chosen = s;
  return chosen;
}

function trackInfo(init: DemuxedInit): VideoTrackInfo {
  const v = init.video;
  if (v.codec === 'h264') return { ...v, profileLevelId: v.sps.subarray(1, 4).toString('hex') };
  // general_profile_space(2) tier(1) profile_idc(5), then 32+48 bits of flags, then level_idc.
  const ptl = v.sps.subarray(3);
  const b0 = ptl[0] ?? 0;
  return {
    ...v,
    profileSpace: b0 >> 6,
    tierFlag: (b0 >> 5) & 1,
    profileId: b0 & 0x1f,
    levelId: ptl[11] ?? 0,
  };
}

function sdpAudio(audio: DemuxedInit['audio']): AudioTrackInfo | undefined {
  if (!audio) return undefined;
  const { sampleRate, channels } = audio;
  if (audio.codec !== 'aac') return { codec: audio.codec, sampleRate, channels };
  return { codec: 'aac', sampleRate, channels, config: audio.config.toString('hex') };
}

/**
 * RTSP playback of recordings (docs/recording.md): DESCRIBE, and the session SETUP creates. The
 * server keeps authentication, transports and session bookkeeping; this knows recordings.
 */
export class PlaybackRoutes {
  readonly #library: PlaybackLibrary;
  readonly #log: Logger;

  constructor(library: PlaybackLibrary, log: Logger) {
    this.#library = library;
    this.#log = log;
  }

  async #open(url: PlaybackUrl): Promise<{ cursor: PlaybackCursor; init: DemuxedInit } | { reply: Reply }> {
    const reader = this.#library();
    if (!reader) return { reply: { status: 503, headers: { 'Retry-After': 10 } } };
    const segments = reader.segments(url.start, url.end, url.stream);
    if (segments.length === 0) return { reply: { status: 404 } };
    if (segments.length > MAX_SEGMENTS) return { reply: { status: 413 } };
    const cursor = new PlaybackCursor(reader, segments, url.end, {
      onDamaged: (path, err) =>
        this.#log.warn({ path, err }, 'playback: a recorded segment could not be read'),
    });
    const init = await cursor.describe();
    if (!init) {
      await cursor.close();
      return { reply: { status: 404 } };
    }
    return { cursor, init };
  }

  async describe(url: PlaybackUrl, requestUri: string, host: string): Promise<Reply> {
    if (url.track !== undefined) return { status: 404 };
    const opened = await this.#open(url);
    if ('reply' in opened) return opened.reply;
    await opened.cursor.close();
    const { init } = opened;
    const sdp = buildSdp({
      sessionId: String(Date.now()),
      host,
      name: `ipcam-agent playback ${url.stream}`,
      video: trackInfo(init),
      audio: sdpAudio(init.audio),
    });
    const seconds = ((url.end - url.start) / 1000).toFixed(3);
    const body = sdp.replace(
      'a=range:npt=0-\r\n',
      `a=range:npt=0-${seconds}\r\na=range:clock=${compactIso(url.start)}-${compactIso(url.end)}\r\n`,
    );
    const origin = /^rtsps?:\/\/[^/?#]+/i.exec(requestUri)?.[0] ?? '';
    return {
      status: 200,
      headers: { 'Content-Type': 'application/sdp', 'Content-Base': `${origin}${playbackBase(url)}/` },
      body,
    };
  }

  /** A new session for SETUP, or the reply that says why not. */
  async session(
    url: PlaybackUrl,
    transport: 'tcp' | 'udp',
    onEnd: (session: PlaybackSession) => void,
  ): Promise<PlaybackSession | Reply> {
    const opened = await this.#open(url);
    if ('reply' in opened) return opened.reply;
    if (url.track === 1 && !opened.init.audio) {
      await opened.cursor.close();
      return { status: 404 };
    }
    const session: PlaybackSession = new PlaybackSession(
      playbackBase(url),
      { start: url.start, end: url.end },
      opened.init,
      opened.cursor,
      transport,
      { onEnd: () => onEnd(session) },
    );
    return session;
  }

  /** PLAY: Range seeks (npt from the range start, or clock), Scale picks 1, 2 or 4. */
  async play(
    session: PlaybackSession,
    rangeHeader: string | undefined,
    scaleHeader: string | undefined,
    base: string,
  ): Promise<Reply> {
    const seek = parseRange(rangeHeader, session.range.start);
    if (seek === 'invalid') return { status: 457 };
    if (seek !== undefined && (seek < session.range.start - 1000 || seek >= session.range.end))
      return { status: 457 };
    const scale = chooseScale(scaleHeader);
    const prepared = await session.play(seek, scale);
    if (!prepared) return { status: 457 };
    const { range } = session;
    const from = Math.max(0, (prepared.startWallMs - range.start) / 1000).toFixed(3);
    const to = ((range.end - range.start) / 1000).toFixed(3);
    return {
      status: 200,
      after: prepared.start,
      headers: {
        Session: session.id,
        Range: `npt=${from}-${to}`,
        ...(scaleHeader !== undefined ? { Scale: String(scale) } : {}),
        'RTP-Info': prepared.rtpInfo
          .map(
            (t) =>
              `url=${base}/trackID=${t.trackId};seq=${t.seq}${t.rtptime === undefined ? '' : `;rtptime=${t.rtptime}`}`,
          )
          .join(','),
      },
    };
  }
}
