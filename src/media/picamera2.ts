import { access, constants } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AgentError } from '../core/errors.js';
import type { LoresProfile } from './config.js';
import { findProgram, type RpicamSource } from './rpicam.js';

/**
 * The agent's own camera program for two streams from one Raspberry Pi camera: rpicam-vid encodes one
 * stream and libcamera lets one process own the camera, so a low-resolution sub stream needs one
 * program with two encoders (Picamera2: the ISP's `main` and `lores` outputs). Shipped in `bin/`.
 */
export const PICAMERA2_PROGRAM = fileURLToPath(new URL('../../bin/ipcam-picamera2.py', import.meta.url));

/** The program writes the main stream on stdout and the sub stream on this file descriptor. */
export const PICAMERA2_SUB_FD = 3;

/**
 * The program's argv after its path, as a pure function (test/media/picamera2.test.ts): both streams
 * H.264 with SPS/PPS before every IDR, a keyframe every `fps x gopSeconds` frames, bit rates in bit/s.
 */
export function picamera2Args(
  source: Pick<RpicamSource, 'main' | 'camera' | 'extraArgs'>,
  sub: LoresProfile,
  gopSeconds: number,
): string[] {
  const { main } = source;
  const intra = Math.max(1, Math.round(main.fps * gopSeconds));
  return [
    ...(source.camera !== undefined ? ['--camera', String(source.camera)] : []),
    ...['--width', String(main.width), '--height', String(main.height)],
    ...['--framerate', String(main.fps), '--bitrate', String(main.bitrateKbps * 1000)],
    ...['--lores-width', String(sub.width), '--lores-height', String(sub.height)],
    ...['--lores-bitrate', String(sub.bitrateKbps * 1000)],
    ...['--intra', String(intra), '--sub-fd', String(PICAMERA2_SUB_FD)],
    ...(source.extraArgs ?? []),
  ];
}

/**
 * The interpreter and the program: `python` (config) or `python3` looked up on PATH, and the program
 * file that ships with the agent. Either missing is a config error naming the key to fix.
 */
export async function findPicamera2(
  python: string | undefined,
  path = process.env.PATH ?? '',
  program = PICAMERA2_PROGRAM,
): Promise<[string, string]> {
  const name = python ?? 'python3';
  const interpreter = await findProgram([name], path);
  if (!interpreter)
    throw new AgentError(
      'config_invalid',
      `media.source.python: ${name} ${name.includes('/') ? 'is not an executable file' : 'not found on PATH'}`,
    );
  try {
    await access(program, constants.R_OK);
  } catch {
    throw new AgentError(
      'config_invalid',
      `media.source.sub: the two-stream camera program ${program} is missing from this install`,
    );
  }
  return [interpreter, program];
}
