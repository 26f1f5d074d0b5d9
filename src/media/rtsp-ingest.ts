import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../core/errors.js';
import { redactString } from '../core/redact.js';
import type { MediaConfig } from './config.js';
import type { NoAnswer } from './encoded-capture.js';

export type RtspIngestSource = Extract<MediaConfig['source'], { kind: 'rtsp' }>;

/**
 * Where ffmpeg reads the server from: the URL itself when it holds no secret, else a playlist file
 * holding the URL with the credentials. Any local user can read a process's argv (/proc/<pid>/cmdline),
 * so a password never goes there: the playlist (ffmpeg's concat demuxer, one live entry) is mode 0600 in
 * a private 0700 folder of the temporary directory (tmpfs on a camera: never on flash), and carries the
 * RTSP options for the entry too.
 */
export type IngestInput = { url: string } | { playlist: string };

/** Seconds without data before ffmpeg gives the server up, when `timeoutSeconds` is not given. */
export const RTSP_INGEST_TIMEOUT_S = 10;

/** Input options of ffmpeg beyond the RTSP client's, given for one input (see `rtspIngestInput`). */
export type InputOptions = readonly (readonly [string, string])[];

/**
 * The input options of ffmpeg for this source: its RTSP client options, then `extra`. In a playlist
 * they are `option` lines, which the concat demuxer applies when it opens the server.
 */
function rtspOptions(
  source: Pick<RtspIngestSource, 'transport' | 'timeoutSeconds'>,
  extra: InputOptions = [],
): (readonly [string, string])[] {
  // `timeout` is the socket I/O timeout in µs (ffmpeg 5+): a server that stops sending ends ffmpeg,
  // and the supervisor connects again.
  return [
    ['rtsp_transport', source.transport ?? 'tcp'],
    ['timeout', String((source.timeoutSeconds ?? RTSP_INGEST_TIMEOUT_S) * 1_000_000)],
    ...extra,
  ];
}

function inputArgs(
  source: Pick<RtspIngestSource, 'transport' | 'timeoutSeconds'>,
  input: IngestInput,
  extra: InputOptions = [],
): string[] {
  if ('url' in input)
    return [...rtspOptions(source, extra).flatMap(([k, v]) => [`-${k}`, v]), '-i', input.url];
  const protocols = 'file,rtsp,rtsps,rtp,srtp,tcp,udp,tls';
  // The playlist holds `extra` for the server's input; here they hold for the concat demuxer's own.
  const outer = extra.flatMap(([k, v]) => [`-${k}`, v]);
  return [...outer, '-f', 'concat', '-safe', '0', '-protocol_whitelist', protocols, '-i', input.playlist];
}

/**
 * The argv of the ffmpeg that pulls one stream from the camera's own RTSP server and hands its H.264
 * to the pipe path as Annex-B on stdout, copied (`-c:v copy`), never decoded. ffmpeg's RTSP client
 * does Basic and Digest, RTP over TCP (interleaved), and the RTP depacketizing; the agent supervises
 * it (restart with backoff when the server goes away) and reads its stdout like any `command` input.
 * `dump_extra` puts the SDP's SPS/PPS (sprop-parameter-sets) in front of every keyframe, for
 * streamers that send them only in the SDP.
 */
export function rtspIngestArgs(
  source: Pick<RtspIngestSource, 'transport' | 'timeoutSeconds'>,
  input: IngestInput,
): string[] {
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-fflags', 'nobuffer'],
    ...inputArgs(source, input),
    ...['-map', '0:v:0', '-c:v', 'copy', '-bsf:v', 'dump_extra=freq=keyframe', '-f', 'h264', 'pipe:1'],
  ];
}

/** How the server's sound reaches the pipe audio path: the argv's output part and the format it gives. */
interface IngestSound {
  output: string[];
  format: 'adts' | 'mulaw' | 'alaw';
}

/** The server's first audio track as ffprobe describes it. */
export interface IngestAudioProbe {
  codec: string;
  sampleRate: number;
  channels: number;
}

/**
 * By the server's first audio track: AAC copied as ADTS, G.711 at 8 kHz mono copied as raw µ-law or
 * A-law; anything else, and a track ffprobe could not describe, is decoded and made 8 kHz mono µ-law,
 * which works whatever comes and is what WebRTC, RTSP and recordings all take.
 */
function ingestSound(probe: IngestAudioProbe | undefined): IngestSound {
  if (probe?.codec === 'aac') return { output: ['-c:a', 'copy', '-f', 'adts'], format: 'adts' };
  const g711 = probe?.sampleRate === 8000 && probe.channels === 1;
  if (g711 && probe.codec === 'pcm_mulaw')
    return { output: ['-c:a', 'copy', '-f', 'mulaw'], format: 'mulaw' };
  if (g711 && probe.codec === 'pcm_alaw') return { output: ['-c:a', 'copy', '-f', 'alaw'], format: 'alaw' };
  return { output: ['-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1', '-f', 'mulaw'], format: 'mulaw' };
}

/**
 * The argv of a second session that takes the server's first audio track to the pipe audio path, and
 * the format it writes (see `ingestSound`).
 */
export function rtspIngestAudioArgs(
  source: Pick<RtspIngestSource, 'transport' | 'timeoutSeconds'>,
  input: IngestInput,
  probe?: IngestAudioProbe,
): { args: string[]; format: IngestSound['format'] } {
  const sound = ingestSound(probe);
  return {
    args: [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
      ...inputArgs(source, input),
      ...['-map', '0:a:0', ...sound.output, 'pipe:1'],
    ],
    format: sound.format,
  };
}

/** The time the server has to answer the probe of its audio codec. */
const AUDIO_PROBE_MS = 10_000;

/**
 * The sound probe reads one packet and no more: codec, rate and channels come from the SDP (rtpmap,
 * fmtp config). ffprobe's default analysis took about 3 s against GStreamer's server, and more than
 * the 10 s allowed on a loaded machine, which a camera at boot is, its CPU taken by its own streamer.
 * `probesize` is what stops it; `analyzeduration` is 1 µs because 0 means ffmpeg's default (5 s).
 */
export const SOUND_PROBE_OPTIONS: InputOptions = [
  ['analyzeduration', '1'],
  ['probesize', '32'],
];

/**
 * What the server says of its sound: its first audio track (undefined: a track ffprobe could not
 * describe), `none` when it has no audio track, `no answer` when ffprobe got no description at all (the
 * server not up yet at boot, or too slow on a loaded camera): then the caller asks again later rather
 * than decode and encode a sound it could have copied.
 */
export type IngestAudioAnswer = { track: IngestAudioProbe | undefined } | 'none' | NoAnswer;

/** The ffprobe argv of the sound probe; `input` is made with `SOUND_PROBE_OPTIONS` as `extra`. */
export function soundProbeArgs(
  source: Pick<RtspIngestSource, 'transport' | 'timeoutSeconds'>,
  input: IngestInput,
): string[] {
  return [
    ...['-v', 'error', ...inputArgs(source, input, SOUND_PROBE_OPTIONS)],
    ...['-select_streams', 'a:0', '-show_entries', 'stream=codec_name,sample_rate,channels', '-of', 'json'],
  ];
}

export function probeIngestAudio(
  ffprobePath: string,
  source: Pick<RtspIngestSource, 'transport' | 'timeoutSeconds'>,
  input: IngestInput,
): Promise<IngestAudioAnswer> {
  const args = soundProbeArgs(source, input);
  return new Promise((resolve) => {
    execFile(ffprobePath, args, { timeout: AUDIO_PROBE_MS, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(audioAnswer(String(stdout)));
      // Scrubbed before it is cut: a cut URL could lose the `@` the log redactor looks for.
      const said = redactString(String(stderr).trim().split('\n').at(-1) ?? '').slice(0, 200);
      // execFile's own kill on timeout leaves `killed` set; any other end is ffprobe's.
      const why = err.killed ? `no reply within ${AUDIO_PROBE_MS / 1000} s` : said || err.message;
      resolve({ noAnswer: why });
    });
  });
}

/** ffprobe's JSON: no streams at all is a server without sound; a stream is read by `parseAudioProbe`. */
export function audioAnswer(json: string): IngestAudioAnswer {
  let streams: unknown;
  try {
    streams = (JSON.parse(json) as { streams?: unknown }).streams;
  } catch {
    return { noAnswer: 'ffprobe wrote no JSON' };
  }
  if (Array.isArray(streams) && streams.length === 0) return 'none';
  return { track: parseAudioProbe(json) };
}

/** ffprobe's JSON for one audio stream, checked field by field (the server chose what it says). */
export function parseAudioProbe(json: string): IngestAudioProbe | undefined {
  let stream: unknown;
  try {
    stream = (JSON.parse(json) as { streams?: unknown[] }).streams?.[0];
  } catch {
    return undefined;
  }
  if (typeof stream !== 'object' || stream === null) return undefined;
  const { codec_name: codec, sample_rate: rate, channels } = stream as Record<string, unknown>;
  const sampleRate = Number(rate);
  if (typeof codec !== 'string' || !/^[a-z0-9_]{1,32}$/.test(codec)) return undefined;
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || typeof channels !== 'number') return undefined;
  return { codec, sampleRate, channels };
}

let playlistDir: string | undefined;

/** The private folder for playlists, made once per process and removed when it exits. */
function privateDir(): string {
  if (!playlistDir) {
    const dir = mkdtempSync(join(tmpdir(), 'ipcam-agent-ingest-'));
    playlistDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return playlistDir;
}

/**
 * The input for one stream of the server: the URL as it is without credentials, else a playlist named
 * `name` holding the URL with them (written afresh at each start, mode 0600).
 */
export async function rtspIngestInput(
  source: Pick<RtspIngestSource, 'username' | 'passwordFile' | 'transport' | 'timeoutSeconds'>,
  url: string,
  name: string,
  extra: InputOptions = [],
): Promise<IngestInput> {
  if (!source.username) return { url };
  const withCredentials = await rtspIngestUrl(source, url);
  // The URL is quoted in the playlist: a quote or a line break in it would end the entry.
  if (/['\r\n\\]/.test(withCredentials))
    throw new AgentError(
      'config_invalid',
      'media.source.url: quotes, backslashes and line breaks are not allowed',
    );
  const lines = [
    'ffconcat version 1.0',
    `file '${withCredentials}'`,
    ...rtspOptions(source, extra).map(([k, v]) => `option ${k} ${v}`),
  ];
  const playlist = join(privateDir(), `${name}.ffconcat`);
  await writeFile(playlist, `${lines.join('\n')}\n`, { mode: 0o600 });
  return { playlist };
}

/**
 * The URL with the credentials in it, as ffmpeg wants them: user and password percent-encoded, the
 * password read from its file (trailing newline dropped). ffmpeg answers a 401 with Digest or Basic,
 * whichever the server asks for. It goes only into a playlist file (`rtspIngestInput`), never argv.
 */
export async function rtspIngestUrl(
  source: Pick<RtspIngestSource, 'username' | 'passwordFile'>,
  url: string,
): Promise<string> {
  if (!source.username) return url;
  let password = '';
  if (source.passwordFile) {
    try {
      password = (await readFile(source.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new AgentError(
        'config_invalid',
        `media.source.passwordFile: cannot read ${source.passwordFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  const at = url.indexOf('://') + 3;
  const encode = (text: string) => encodeURIComponent(text).replaceAll("'", '%27');
  const auth = `${encode(source.username)}:${encode(password)}@`;
  return `${url.slice(0, at)}${auth}${url.slice(at)}`;
}
