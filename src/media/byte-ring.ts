/**
 * First in, first out storage of byte runs in one buffer that is allocated once and reused.
 *
 * Why: video the daemon keeps for seconds (the cached GOP, the clip pre-roll) outlives two young
 * collections, so V8 moves it to the old generation, and a Buffer there is freed only by a full
 * collection, which V8 ran every 8-35 s in an idle daemon here. Until then every frame that went by stays
 * in memory: a sawtooth of 6 MB at 2 Mbit/s on top of what is live (docs/deployment.md, "Video kept in
 * one reused buffer"). Copied in here, the frames the encoder hands over die young instead.
 *
 * Runs are removed oldest first, and a run may wrap from the end of the buffer to its start, so the
 * buffer is never compacted. It grows to 9/8 of what it needs when a run does not fit, up to
 * `maxBytes`, and shrinks when less than half of it is in use, so a burst (a huge keyframe) is not
 * kept forever. A buffer given up is freed at once (`release`): nothing outside holds it, since readers
 * get copies, so it does not wait in the old generation for a full collection either.
 */
export interface RingRun {
  /** Where the run starts in the current buffer; moves when the buffer is reallocated. */
  offset: number;
  length: number;
}

export class ByteRing {
  readonly #minBytes: number;
  readonly #maxBytes: number;
  #buf: Buffer;
  /** Runs in the order they were written; the first is the oldest. */
  #runs: RingRun[] = [];
  #used = 0;

  constructor(options: { minBytes?: number; maxBytes: number }) {
    this.#minBytes = options.minBytes ?? 256 * 1024;
    this.#maxBytes = Math.max(options.maxBytes, this.#minBytes);
    this.#buf = Buffer.allocUnsafeSlow(this.#minBytes);
  }

  /** Bytes held by runs. */
  get usedBytes(): number {
    return this.#used;
  }

  get capacity(): number {
    return this.#buf.length;
  }

  /**
   * Copies `parts` one after another into a new run, which wraps from the buffer's end to its start if
   * it must. Undefined when they cannot fit even in a buffer of `maxBytes` beside what it holds: the
   * caller removes old runs (`shift`) and tries again, or gives up.
   */
  push(parts: readonly Buffer[]): RingRun | undefined {
    let length = 0;
    for (const part of parts) length += part.length;
    const need = this.#used + length;
    if (need > this.#maxBytes) return undefined;
    if (need > this.#buf.length) this.#reallocate(Math.min(this.#maxBytes, roundUp(need * 1.125)));
    const last = this.#runs[this.#runs.length - 1];
    const offset = last ? (last.offset + last.length) % this.#buf.length : 0;
    let at = offset;
    for (const part of parts) at = this.#write(part, at);
    const run = { offset, length };
    this.#runs.push(run);
    this.#used += length;
    return run;
  }

  /** Removes the oldest run. */
  shift(): void {
    const run = this.#runs.shift();
    if (run) this.#used -= run.length;
  }

  clear(): void {
    this.#runs = [];
    this.#used = 0;
    if (this.#buf.length > this.#minBytes) this.#reallocate(this.#minBytes);
  }

  /** A copy of `run`'s bytes: the caller may keep it as long as it likes. */
  copy(run: RingRun): Buffer {
    const out = Buffer.allocUnsafe(run.length);
    this.#read(out, 0, run.offset, run.length);
    return out;
  }

  /**
   * Shrinks the buffer to half again what is in use when less than half is (after a burst, or an alarm
   * clip kept in full). A steady stream uses more than that: what is kept varies by about one GOP.
   */
  shrinkIfIdle(): void {
    if (this.#buf.length > this.#minBytes && this.#used * 2 < this.#buf.length) {
      this.#reallocate(Math.max(this.#minBytes, roundUp(this.#used * 1.5)));
    }
  }

  /** Writes `part` at `at`, wrapping at the end; returns where the next byte goes. */
  #write(part: Buffer, at: number): number {
    const size = this.#buf.length;
    const first = Math.min(part.length, size - at);
    part.copy(this.#buf, at, 0, first);
    if (first < part.length) part.copy(this.#buf, 0, first);
    return (at + part.length) % size;
  }

  /** Reads `length` bytes from `at` (wrapping at the end) into `out` at `into`. */
  #read(out: Buffer, into: number, at: number, length: number): void {
    const first = Math.min(length, this.#buf.length - at);
    this.#buf.copy(out, into, at, at + first);
    if (first < length) this.#buf.copy(out, into + first, 0, length - first);
  }

  /** Moves every run, oldest first, to the start of a new buffer of `size` bytes. */
  #reallocate(size: number): void {
    const next = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (const run of this.#runs) {
      this.#read(next, at, run.offset, run.length);
      run.offset = at;
      at += run.length;
    }
    release(this.#buf);
    this.#buf = next;
  }
}

const PAGE_RUN = 64 * 1024;

function roundUp(bytes: number): number {
  return Math.ceil(bytes / PAGE_RUN) * PAGE_RUN;
}

/**
 * Frees a buffer's memory now by detaching it: Node 22 and later with `ArrayBuffer.prototype.transfer`,
 * Node 20 by moving its memory to a new ArrayBuffer that nothing holds, which the next young collection
 * frees. Only for a buffer of its own (`allocUnsafeSlow`) that nothing else refers to.
 */
function release(buf: Buffer): void {
  const memory = buf.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (typeof memory.transfer === 'function') memory.transfer(0);
  else structuredClone(memory, { transfer: [memory] });
}
