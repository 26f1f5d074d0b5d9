import type { Logger } from '../core/logger.js';
import type { AnalysisFrame } from './capture.js';
import type { MediaConfig } from './config.js';
import { PipeInputReader } from './pipe-input.js';

type ScalerInput = NonNullable<MediaConfig['analysis']['input']>;

/**
 * Analysis frames straight from the SoC's scaler (a second, small output of the ISP written to a
 * pipe): no decoder at all. Each frame is exactly width x height luma bytes, followed by the chroma
 * for `nv12`/`yuv420p` (skipped). A writer that reconnects starts again at a frame boundary.
 */
export class ScalerFrames {
  readonly #reader: PipeInputReader;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(
    input: ScalerInput,
    analysis: Pick<MediaConfig['analysis'], 'width' | 'height'>,
    restart: MediaConfig['restart'],
    log: Logger,
    onFrame: (frame: AnalysisFrame) => void,
  ) {
    const { width, height } = analysis;
    const luma = width * height;
    const frameBytes = input.format === 'gray' ? luma : luma + 2 * (width / 2) * (height / 2);
    this.#reader = new PipeInputReader(input, restart, log.child({ stream: 'analysis' }));
    this.#reader.on('open', () => {
      this.#pending = [];
      this.#pendingBytes = 0;
    });
    let first = true;
    this.#reader.on('data', (chunk) => {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      while (this.#pendingBytes >= frameBytes) {
        const all = Buffer.concat(this.#pending, this.#pendingBytes);
        if (first) log.info({ format: input.format }, 'analysis frames flowing (scaler output)');
        first = false;
        onFrame({ width, height, data: all.subarray(0, luma), ts: Date.now() });
        const rest = all.subarray(frameBytes);
        this.#pending = rest.length > 0 ? [rest] : [];
        this.#pendingBytes = rest.length;
      }
    });
  }

  start(): void {
    this.#reader.start();
  }

  async stop(): Promise<void> {
    await this.#reader.stop();
  }
}
