import { execFile } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { AgentError } from '../core/errors.js';

/** What the capture needs to know of a file before it opens it. */
export interface MediaFileProbe {
  /** ffmpeg's demuxer name(s), e.g. `mov,mp4,m4a,3gp,3g2,mj2`. */
  format: string;
  /** The absolute stream index of the picture: the first video stream that is not cover art. */
  video: { index: number; codec: string; width: number; height: number; fps?: number | undefined };
  /** The first audio stream, absent when the file has none. */
  audio: { index: number; codec: string } | undefined;
  /** A single picture (JPEG, PNG, ...): looped by its demuxer, as `-stream_loop` gives one frame. */
  still: boolean;
}

interface ProbeJson {
  format?: { format_name?: unknown };
  streams?: {
    index?: unknown;
    codec_type?: unknown;
    codec_name?: unknown;
    width?: unknown;
    height?: unknown;
    avg_frame_rate?: unknown;
    disposition?: { attached_pic?: unknown };
  }[];
}

const PROBE_TIMEOUT_MS = 15000;

/**
 * How ffmpeg names a local file: `file:` keeps a relative name with a colon (`a:b.mp4`) or a leading
 * dash from being read as a protocol or an option. Absolute paths are unambiguous as they are.
 */
export function fileInput(path: string): string {
  return isAbsolute(path) ? path : `file:${path}`;
}

/**
 * Opens a media file with ffprobe (argv array, no shell) and finds its picture and sound. A file that
 * cannot be read, or has no picture, is an AgentError `media_unreadable` whose message is one line
 * naming the file and ffprobe's reason.
 */
export async function probeMediaFile(path: string, ffprobePath = 'ffprobe'): Promise<MediaFileProbe> {
  const args = [
    '-v',
    'error',
    '-show_entries',
    'stream=index,codec_type,codec_name,width,height,avg_frame_rate:stream_disposition=attached_pic:format=format_name',
    '-of',
    'json',
    fileInput(path),
  ];
  const { stdout, stderr, error } = await new Promise<{
    stdout: string;
    stderr: string;
    error: (Error & { code?: unknown }) | null;
  }>((resolve) => {
    execFile(
      ffprobePath,
      args,
      { timeout: PROBE_TIMEOUT_MS, maxBuffer: 1024 * 1024, shell: false },
      (err, out, errOut) => resolve({ stdout: String(out), stderr: String(errOut), error: err }),
    );
  });
  if (error) {
    if (error.code === 'ENOENT' && stderr === '') {
      throw new AgentError(
        'media_unreadable',
        `${ffprobePath} not found: install ffmpeg (it comes with ffprobe)`,
      );
    }
    // ffprobe's last line names the reason ("Invalid data found when processing input").
    const reason = lastLine(stderr) ?? error.message;
    throw new AgentError(
      'media_unreadable',
      `${path}: cannot be read as a video (${reason.replace(`${fileInput(path)}: `, '')})`,
    );
  }
  let parsed: ProbeJson;
  try {
    parsed = JSON.parse(stdout) as ProbeJson;
  } catch {
    throw new AgentError('media_unreadable', `${path}: ffprobe gave no readable answer`);
  }
  const streams = Array.isArray(parsed.streams) ? parsed.streams : [];
  const video = streams.find(
    (s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1 && Number.isInteger(s.index),
  );
  if (!video) throw new AgentError('media_unreadable', `${path}: has no video stream`);
  if (typeof video.codec_name !== 'string') {
    throw new AgentError('media_unreadable', `${path}: its video codec is not one this ffmpeg decodes`);
  }
  // A sound this ffmpeg does not know is treated as none: silence rather than an ffmpeg that fails.
  const audio = streams.find(
    (s) => s.codec_type === 'audio' && Number.isInteger(s.index) && typeof s.codec_name === 'string',
  );
  const format = typeof parsed.format?.format_name === 'string' ? parsed.format.format_name : 'unknown';
  return {
    format,
    video: {
      index: video.index as number,
      codec: video.codec_name,
      width: Number(video.width ?? 0),
      height: Number(video.height ?? 0),
      fps: frameRate(video.avg_frame_rate),
    },
    audio: audio ? { index: audio.index as number, codec: String(audio.codec_name) } : undefined,
    still: isStill(format),
  };
}

/** ffprobe's `25/1` or `30000/1001`, rounded to whole frames a second; undefined when unknown. */
function frameRate(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const [num, den] = value.split('/').map(Number);
  if (!num || !den || !Number.isFinite(num / den)) return undefined;
  const fps = Math.round(num / den);
  return fps >= 1 && fps <= 120 ? fps : undefined;
}

/** ffmpeg reads a single picture with `image2` or one of the `<codec>_pipe` demuxers. */
function isStill(format: string): boolean {
  return format === 'image2' || /^[a-z0-9]+_pipe$/.test(format);
}

function lastLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1);
}
