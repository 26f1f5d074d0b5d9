/**
 * `v4l2-ctl --device <dev> --list-formats-ext`, parsed, and the choice made from it: a device that
 * gives H.264 at the wanted size is copied (never re-encoded); otherwise a raw format goes to the
 * encoder, MJPEG only when no raw format has the size and rate (decoding it costs CPU). Pure
 * functions, table-tested over recorded outputs (test/fixtures/v4l2/).
 */

export interface V4l2Size {
  /** Discrete: min = max. Stepwise/continuous: the range and its step. */
  minWidth: number;
  maxWidth: number;
  minHeight: number;
  maxHeight: number;
  stepWidth: number;
  stepHeight: number;
  /** Frame rates listed for a discrete size (empty: not listed, or a stepwise size). */
  fps: number[];
}

export interface V4l2Format {
  fourcc: string;
  description: string;
  compressed: boolean;
  sizes: V4l2Size[];
}

const MAX_FORMATS = 64;
const MAX_SIZES = 256;

/** Tolerant of what it does not know: unparsable lines are skipped, counts are bounded. */
export function parseV4l2Formats(text: string): V4l2Format[] {
  const formats: V4l2Format[] = [];
  let size: V4l2Size | undefined;
  for (const raw of text.split('\n').slice(0, 10_000)) {
    const line = raw.trim();
    const fmt = /^\[\d+\]: '([^']{1,4})' \((.*?)(, compressed)?\)$/.exec(line);
    if (fmt) {
      if (formats.length >= MAX_FORMATS) break;
      formats.push({
        fourcc: (fmt[1] ?? '').trim(),
        description: fmt[2] ?? '',
        compressed: fmt[3] !== undefined,
        sizes: [],
      });
      size = undefined;
      continue;
    }
    const current = formats.at(-1);
    if (!current || current.sizes.length >= MAX_SIZES) continue;
    const discrete = /^Size: Discrete (\d+)x(\d+)$/.exec(line);
    if (discrete) {
      const w = Number(discrete[1]);
      const h = Number(discrete[2]);
      size = { minWidth: w, maxWidth: w, minHeight: h, maxHeight: h, stepWidth: 1, stepHeight: 1, fps: [] };
      current.sizes.push(size);
      continue;
    }
    const stepwise =
      /^Size: (?:Stepwise|Continuous) (\d+)x(\d+) - (\d+)x(\d+)(?: with step (\d+)\/(\d+))?$/.exec(line);
    if (stepwise) {
      size = {
        minWidth: Number(stepwise[1]),
        minHeight: Number(stepwise[2]),
        maxWidth: Number(stepwise[3]),
        maxHeight: Number(stepwise[4]),
        stepWidth: Number(stepwise[5] ?? 1) || 1,
        stepHeight: Number(stepwise[6] ?? 1) || 1,
        fps: [],
      };
      current.sizes.push(size);
      continue;
    }
    const interval = /^Interval: Discrete [\d.]+s \(([\d.]+) fps\)$/.exec(line);
    if (interval && size && size.fps.length < 64) size.fps.push(Number(interval[1]));
  }
  return formats;
}

/** V4L2 fourcc to ffmpeg's `-input_format` name; Bayer and other formats ffmpeg cannot take are absent. */
const FFMPEG_NAMES: Record<string, string> = {
  H264: 'h264',
  MJPG: 'mjpeg',
  JPEG: 'mjpeg',
  YUYV: 'yuyv422',
  UYVY: 'uyvy422',
  NV12: 'nv12',
  NV21: 'nv21',
  YU12: 'yuv420p',
  YV12: 'yuv420p',
  RGB3: 'rgb24',
  BGR3: 'bgr24',
};

export interface V4l2Want {
  width: number;
  height: number;
  fps: number;
}

export interface V4l2Plan {
  /** ffmpeg's `-input_format`. */
  inputFormat: string;
  fourcc: string;
  /** H.264 from the device: `-c:v copy`. */
  copy: boolean;
  /** Why, for the log and `info`. */
  reason: string;
}

function fits(size: V4l2Size, want: V4l2Want): boolean {
  const inRange =
    want.width >= size.minWidth &&
    want.width <= size.maxWidth &&
    want.height >= size.minHeight &&
    want.height <= size.maxHeight;
  return (
    inRange &&
    (want.width - size.minWidth) % size.stepWidth === 0 &&
    (want.height - size.minHeight) % size.stepHeight === 0
  );
}

/** The size is there and so is the rate (a size listing no rates is taken at its word). */
function fitsRate(size: V4l2Size, want: V4l2Want): boolean {
  return fits(size, want) && (size.fps.length === 0 || size.fps.some((f) => Math.abs(f - want.fps) < 0.5));
}

/**
 * H.264 at the size (copied) first; then a raw format at the size and rate; then MJPEG at the size
 * and rate; then a raw format at the size at whatever rate it has. Undefined when nothing fits: a
 * raw Bayer sensor (unicam) needs the ISP, i.e. the `rpicam` source, not V4L2.
 */
export function chooseV4l2Format(formats: readonly V4l2Format[], want: V4l2Want): V4l2Plan | undefined {
  const usable = formats.filter((f) => FFMPEG_NAMES[f.fourcc] !== undefined);
  const plan = (f: V4l2Format, reason: string): V4l2Plan => ({
    inputFormat: FFMPEG_NAMES[f.fourcc] ?? '',
    fourcc: f.fourcc,
    copy: f.fourcc === 'H264',
    reason,
  });
  const h264 = usable.find((f) => f.fourcc === 'H264' && f.sizes.some((s) => fits(s, want)));
  if (h264) return plan(h264, 'the device encodes H.264 at this size: copied');
  const raw = usable.filter((f) => !f.compressed);
  const rawRate = raw.find((f) => f.sizes.some((s) => fitsRate(s, want)));
  if (rawRate) return plan(rawRate, 'raw at this size and rate: encoded');
  const mjpeg = usable.find(
    (f) => f.fourcc !== 'H264' && f.compressed && f.sizes.some((s) => fitsRate(s, want)),
  );
  if (mjpeg) return plan(mjpeg, 'MJPEG at this size and rate (raw is slower): decoded and encoded');
  const rawSize = raw.find((f) => f.sizes.some((s) => fits(s, want)));
  if (rawSize) return plan(rawSize, 'raw at this size, not at this rate: encoded');
  return undefined;
}
