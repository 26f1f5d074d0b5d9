import jsqr from 'jsqr';

export interface GrayFrame {
  width: number;
  height: number;
  /** 8-bit luma, row-major. */
  data: Uint8Array;
  ts: number;
}

/**
 * Reads QR codes from the camera's grayscale analysis frames, at most once per `intervalMs`: a phone
 * held in front of the lens stays there for seconds, and jsQR costs a few milliseconds a frame.
 */
export class QrReader {
  readonly #intervalMs: number;
  #lastAt = Number.NEGATIVE_INFINITY;
  /** jsQR wants RGBA; the buffer is kept between frames so reading allocates nothing per frame. */
  #rgba = new Uint8ClampedArray(0);

  constructor(options: { intervalMs: number }) {
    this.#intervalMs = options.intervalMs;
  }

  /** The text of a QR code in the frame, or undefined (none found, or too soon since the last read). */
  read(frame: GrayFrame): string | undefined {
    if (frame.ts - this.#lastAt < this.#intervalMs) return undefined;
    this.#lastAt = frame.ts;
    const { width, height, data } = frame;
    const pixels = width * height;
    if (data.length < pixels) return undefined;
    if (this.#rgba.length !== pixels * 4) this.#rgba = new Uint8ClampedArray(pixels * 4);
    const rgba = this.#rgba;
    for (let i = 0, o = 0; i < pixels; i++, o += 4) {
      const y = data[i] as number;
      rgba[o] = y;
      rgba[o + 1] = y;
      rgba[o + 2] = y;
      rgba[o + 3] = 255;
    }
    // A phone screen shows dark modules on light; inverted codes are rare and double the cost.
    const code = jsqr.default(rgba, width, height, { inversionAttempts: 'dontInvert' });
    return code?.data || undefined;
  }
}
