import { execFile } from 'node:child_process';

export interface EncoderCheck {
  encoder: string;
  ok: boolean;
  /** ffmpeg's last words when it failed (first 200 characters). */
  error?: string;
}

/**
 * The argv of a one-second test encode with the named encoder: a test picture at the stream's size,
 * encoded and thrown away. It proves the encoder is built into this ffmpeg and that the hardware
 * behind it (the /dev/video* of a v4l2m2m codec, the MPP service of rkmpp) opens and encodes.
 */
export function encoderCheckArgs(
  encoder: string,
  size: { width: number; height: number; fps: number },
): string[] {
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...['-f', 'lavfi', '-i', `testsrc=size=${size.width}x${size.height}:rate=${size.fps}`, '-t', '1'],
    ...['-pix_fmt', 'yuv420p', '-c:v', encoder, '-f', 'null', '-'],
  ];
}

/** Runs the test encode (argv array, no shell), bounded in time. */
export function checkEncoder(
  ffmpegPath: string,
  encoder: string,
  size: { width: number; height: number; fps: number },
  timeoutMs = 20_000,
): Promise<EncoderCheck> {
  return new Promise((resolve) => {
    execFile(
      ffmpegPath,
      encoderCheckArgs(encoder, size),
      { timeout: timeoutMs, maxBuffer: 256 * 1024, killSignal: 'SIGKILL' },
      (err, _stdout, stderr) => {
        if (!err) return resolve({ encoder, ok: true });
        const said = String(stderr).trim().split('\n').slice(-2).join(' ');
        resolve({ encoder, ok: false, error: (said || err.message).slice(0, 200) });
      },
    );
  });
}
