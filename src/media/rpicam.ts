import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { AgentError } from '../core/errors.js';
import type { EncodedProfile, MediaConfig } from './config.js';

export type RpicamSource = Extract<MediaConfig['source'], { kind: 'rpicam' }>;

/** Newer Raspberry Pi OS images (Bookworm on) name it rpicam-vid; Bullseye's is libcamera-vid. */
export const RPICAM_BINARIES = ['rpicam-vid', 'libcamera-vid'] as const;

/**
 * rpicam-vid's argv for hardware H.264 on stdout, as a pure function (test/media/rpicam.test.ts):
 * - `--codec h264`: the VideoCore/ISP encoder (never `libav`, which encodes in software through
 *   libavcodec; `--libav-format` only applies to that codec, so it is not used either).
 * - `--inline`: SPS/PPS before every IDR, so a viewer can join at any keyframe.
 * - `--intra <frames>`: the keyframe interval, from `media.gopSeconds`.
 * - `-t 0`: run until stopped; `-n`: no preview window; `--flush`: write each frame out at once.
 * - `--bitrate` is in bits per second.
 */
export function rpicamArgs(
  source: Pick<RpicamSource, 'main' | 'camera' | 'extraArgs'>,
  gopSeconds: number,
): string[] {
  const p: EncodedProfile = source.main;
  const intra = Math.max(1, Math.round(p.fps * gopSeconds));
  return [
    ...['-n', '-t', '0', '--codec', 'h264', '--inline', '--flush'],
    ...['--profile', 'baseline', '--level', '4.1'],
    ...(source.camera !== undefined ? ['--camera', String(source.camera)] : []),
    ...['--width', String(p.width), '--height', String(p.height)],
    ...['--framerate', String(p.fps), '--bitrate', String(p.bitrateKbps * 1000)],
    ...['--intra', String(intra)],
    ...(source.extraArgs ?? []),
    ...['-o', '-'],
  ];
}

/**
 * The program to run: `auto` is the first of rpicam-vid and libcamera-vid found on PATH; a name is
 * looked up on PATH; a path is taken as it is. Nothing found is a clear error naming the key.
 */
export async function findRpicam(command: string, path = process.env.PATH ?? ''): Promise<string> {
  const names = command === 'auto' ? [...RPICAM_BINARIES] : [command];
  const found = await findProgram(names, path);
  if (found) return found;
  throw new AgentError(
    'config_invalid',
    `media.source.command: ${command === 'auto' ? 'neither rpicam-vid nor libcamera-vid' : `${command} not`} found on PATH`,
  );
}

/** The first of `names` that is executable: a name is looked up on PATH, a path taken as it is. */
export async function findProgram(names: readonly string[], path: string): Promise<string | undefined> {
  for (const name of names) {
    if (isAbsolute(name) || name.includes('/')) {
      if (await executable(name)) return name;
      continue;
    }
    for (const dir of path.split(delimiter).filter((d) => d !== '')) {
      const candidate = join(dir, name);
      if (await executable(candidate)) return candidate;
    }
  }
  return undefined;
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
