import type { Logger } from '../core/logger.js';
import { audioSpecificConfig, parseAdts } from './aac.js';
import type { MediaConfig, PipeAudioInput } from './config.js';
import { alawToMulaw, linearToMulaw } from './g711.js';
import type { StreamHub } from './hub.js';
import { PipeInputReader } from './pipe-input.js';

/** A writer that sends bytes without ADTS sync words is not buffered without end. */
const MAX_PENDING_BYTES = 64 * 1024;
/** 20 ms of 8 kHz G.711, the frame WebRTC's PCMU track sends. */
const PCMU_FRAME = 160;

/**
 * The sound of an encoded source, read like its pictures and put on the hubs:
 * - `adts`: AAC frames go to both hubs as they are (RTSP, clips), the track from the first header;
 * - `alaw`/`mulaw`: 8 kHz G.711, µ-law in 20 ms frames for WebRTC, RTSP and recordings (A-law
 *   translated by table);
 * - `s16le`: raw PCM, taken down to 8 kHz mono and turned into µ-law (no encoder process).
 * Timestamps count samples, so jitter in the pipe does not reach players.
 */
export class PipeAudio {
  readonly #input: PipeAudioInput;
  readonly #hubs: { main: StreamHub; sub: StreamHub };
  readonly #log: Logger;
  readonly #reader: PipeInputReader;
  #pending: Buffer = Buffer.alloc(0);
  #samples = 0;
  #pcmuSamples = 0;
  #pcmPos = 0;
  #pcmu: Buffer = Buffer.alloc(0);
  /** A µ-law frame went out since the input (re)opened: said once in the log. */
  #flowing = false;

  constructor(
    input: PipeAudioInput,
    hubs: { main: StreamHub; sub: StreamHub },
    restart: MediaConfig['restart'],
    log: Logger,
  ) {
    this.#input = input;
    this.#hubs = hubs;
    this.#log = log.child({ stream: 'audio', format: input.format });
    this.#reader = new PipeInputReader(input, restart, this.#log);
    this.#reader.on('open', () => {
      this.#pending = Buffer.alloc(0);
      this.#pcmu = Buffer.alloc(0);
      this.#flowing = false;
    });
    this.#reader.on('data', (chunk) => this.push(chunk));
  }

  start(): void {
    this.#reader.start();
  }

  async stop(): Promise<void> {
    await this.#reader.stop();
    this.#pending = Buffer.alloc(0);
    this.#pcmu = Buffer.alloc(0);
  }

  /** One chunk of the writer's bytes, of any size (public for tests with recorded bytes). */
  push(chunk: Buffer): void {
    const { format } = this.#input;
    if (format === 'adts') this.#adts(chunk);
    else if (format === 'mulaw') this.#mulaw(chunk);
    else if (format === 'alaw') this.#mulaw(alawToMulaw(chunk));
    else this.#s16le(chunk);
  }

  #adts(chunk: Buffer): void {
    const buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    const parsed = parseAdts(buf);
    // parseAdts stops at a truncated last frame: keep from there for the next chunk.
    let used = 0;
    for (const f of parsed.frames) used = f.data.byteOffset - buf.byteOffset + f.data.length;
    const rest = buf.subarray(used);
    this.#pending = rest.length > MAX_PENDING_BYTES ? Buffer.alloc(0) : Buffer.from(rest);
    if (parsed.frames.length === 0) return;
    const { sampleRate, channels, objectType } = parsed;
    const track = this.#hubs.main.audio;
    if (track?.codec !== 'aac' || track.sampleRate !== sampleRate || track.channels !== channels) {
      const info = {
        codec: 'aac' as const,
        sampleRate,
        channels,
        config: audioSpecificConfig(objectType, sampleRate, channels),
      };
      this.#log.info({ sampleRate, channels }, 'pipe audio: AAC track');
      this.#hubs.main.setAudioTrack(info);
      this.#hubs.sub.setAudioTrack(info);
    }
    const at = Date.now();
    for (const f of parsed.frames) {
      // A copy: a view would keep the writer's whole chunk alive in the hubs' cached GOP.
      const data = Buffer.from(f.data);
      const frame = { kind: 'audio' as const, codec: 'aac' as const, data, pts: this.#samples, at };
      this.#samples += 1024;
      this.#hubs.main.pushAudio(frame);
      this.#hubs.sub.pushAudio(frame);
    }
  }

  #s16le(chunk: Buffer): void {
    const rate = this.#input.sampleRate ?? 8000;
    const channels = this.#input.channels ?? 1;
    const frameBytes = 2 * channels;
    const buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    const whole = buf.length - (buf.length % frameBytes);
    // Nearest-sample decimation to 8 kHz of the first channel: speech-band audio for WebRTC, no
    // filter process needed. #pcmPos is where the next output sample falls, in input samples.
    const step = rate / 8000;
    const inSamples = whole / frameBytes;
    const out: number[] = [];
    while (this.#pcmPos < inSamples) {
      out.push(buf.readInt16LE(Math.floor(this.#pcmPos) * frameBytes));
      this.#pcmPos += step;
    }
    this.#pcmPos -= inSamples;
    this.#pending = Buffer.from(buf.subarray(whole));
    this.#mulaw(linearToMulaw(out));
  }

  #mulaw(bytes: Buffer): void {
    this.#pcmu = this.#pcmu.length > 0 ? Buffer.concat([this.#pcmu, bytes]) : bytes;
    const at = Date.now();
    while (this.#pcmu.length >= PCMU_FRAME) {
      const data = Buffer.from(this.#pcmu.subarray(0, PCMU_FRAME));
      this.#pcmu = this.#pcmu.subarray(PCMU_FRAME);
      const frame = { kind: 'audio' as const, codec: 'pcmu' as const, data, pts: this.#pcmuSamples, at };
      if (!this.#flowing) this.#log.info('pipe audio: G.711 frames (µ-law, 8 kHz)');
      this.#flowing = true;
      // This source's only sound (G.711 or PCM): RTSP and recordings take it too.
      this.#hubs.main.pushPcmu(frame, true);
      this.#hubs.sub.pushPcmu(frame, true);
      this.#pcmuSamples += PCMU_FRAME;
    }
    if (this.#pcmu.length > MAX_PENDING_BYTES) this.#pcmu = Buffer.alloc(0);
  }
}
