type Decode = (
  data: Uint8ClampedArray,
  width: number,
  height: number,
  options: { inversionAttempts: 'dontInvert' },
) => { data: string } | null;

/** jsQR is loaded on first use: a camera that is set up never pays for parsing it at start. */
let decoder: Promise<Decode> | undefined;
let loaded: Decode | undefined;
export function loadDecoder(): Promise<Decode> {
  // CommonJS: the default export is module.exports, a function that is also its own `.default`.
  decoder ??= import('jsqr').then((m) => {
    const exported = m.default as unknown as Decode | { default: Decode };
    loaded = typeof exported === 'function' ? exported : exported.default;
    return loaded;
  });
  return decoder;
}

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
    const decode = loaded;
    if (!decode) {
      void loadDecoder();
      return undefined;
    }
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
    const code = decode(rgba, width, height, { inversionAttempts: 'dontInvert' });
    return code?.data || undefined;
  }
}
