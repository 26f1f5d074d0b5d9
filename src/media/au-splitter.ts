import { type NalRules, nalRules } from './nal-rules.js';
import type { VideoCodec } from './types.js';

/**
 * Splits a raw Annex-B H.264 or H.265 elementary stream, arriving in chunks of any size, into access
 * units.
 *
 * A raw stream (a SoC encoder's output on a pipe) has no container: access units are found by their
 * delimiters (AUD) or, when the encoder sends none, by the rules of H.264 7.4.1.2.3 and H.265
 * 7.4.2.4.4: a parameter set, AUD or (prefix) SEI after a picture's slices starts the next access
 * unit, and so does a slice that is the first of its picture (first_mb_in_slice 0,
 * first_slice_segment_in_pic_flag 1); see `nal-rules.ts`. Memory is bounded: a NAL unit larger than `maxNalBytes` (a writer that
 * sends garbage without start codes, or a broken encoder) is dropped and the splitter resynchronises at
 * the next start code; an access unit with too many bytes or NAL units is dropped as well.
 */

export interface SplitAccessUnit {
  /** NAL units without start codes, AUDs removed; each is its own copy (not a view of the input). */
  nalus: Buffer[];
  /** H.264 IDR, H.265 IRAP (BLA, IDR, CRA). */
  keyframe: boolean;
}

export interface SplitterLimits {
  /** Largest NAL unit kept (default 4 MB). */
  maxNalBytes?: number;
  /** Largest access unit kept (default 8 MB). */
  maxAuBytes?: number;
  /** Most NAL units in one access unit (default 512). */
  maxAuNalus?: number;
}

export interface SplitterDrop {
  reason: 'nal_too_large' | 'au_too_large' | 'bad_nal_header';
  bytes: number;
}

const DEFAULTS = { maxNalBytes: 4 * 1024 * 1024, maxAuBytes: 8 * 1024 * 1024, maxAuNalus: 512 };

export class AccessUnitSplitter {
  readonly #onAu: (au: SplitAccessUnit) => void;
  readonly #onDrop: (drop: SplitterDrop) => void;
  readonly #limits: Required<SplitterLimits>;
  readonly #rules: NalRules;
  /** Bytes not yet split; capacity grows by doubling so appending is amortised O(1). */
  #buf: Buffer = Buffer.alloc(64 * 1024);
  #len = 0;
  /** Offset in #buf just after the current NAL's start code; -1 while looking for a start code. */
  #nalStart = -1;
  /** Where the start-code scan resumes. */
  #scan = 0;
  #au: Buffer[] = [];
  #auBytes = 0;
  #auHasPicture = false;
  #auDropping = false;

  constructor(
    onAu: (au: SplitAccessUnit) => void,
    onDrop: (drop: SplitterDrop) => void = () => undefined,
    limits: SplitterLimits = {},
    codec: VideoCodec = 'h264',
  ) {
    this.#onAu = onAu;
    this.#onDrop = onDrop;
    this.#limits = { ...DEFAULTS, ...limits };
    this.#rules = nalRules(codec);
  }

  get codec(): VideoCodec {
    return this.#rules.codec;
  }

  /** Bytes held (pending NAL and access unit): never more than the limits allow. */
  get bufferedBytes(): number {
    return this.#len + this.#auBytes;
  }

  push(chunk: Buffer): void {
    this.#append(chunk);
    const buf = this.#buf;
    let i = Math.max(this.#scan, 0);
    // Find 00 00 01 start codes from the scan point.
    while (i + 2 < this.#len) {
      if ((buf[i + 2] ?? 0) > 1) {
        i += 3;
        continue;
      }
      if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
        if (this.#nalStart >= 0) this.#nal(buf.subarray(this.#nalStart, i));
        this.#nalStart = i + 3;
        i += 3;
        continue;
      }
      i += 1;
    }
    this.#scan = i;
    this.#compact();
  }

  /** The writer went away: the last NAL unit and access unit are complete as they stand. */
  end(): void {
    if (this.#nalStart >= 0) this.#nal(this.#buf.subarray(this.#nalStart, this.#len));
    this.#emit();
    this.reset();
  }

  /** Forgets everything held (a new writer starts mid-way; what the old one left is incomplete). */
  reset(): void {
    this.#len = 0;
    this.#nalStart = -1;
    this.#scan = 0;
    this.#au = [];
    this.#auBytes = 0;
    this.#auHasPicture = false;
    this.#auDropping = false;
  }

  #append(chunk: Buffer): void {
    const need = this.#len + chunk.length;
    if (need > this.#buf.length) {
      const grown = Buffer.alloc(Math.max(need, this.#buf.length * 2));
      this.#buf.copy(grown, 0, 0, this.#len);
      this.#buf = grown;
    }
    chunk.copy(this.#buf, this.#len);
    this.#len = need;
  }

  /** Drops split bytes, and enforces the NAL size cap on the unit still open. */
  #compact(): void {
    // Keep 2 bytes when looking for a start code: it may straddle the next chunk.
    const keepFrom = this.#nalStart >= 0 ? this.#nalStart : Math.max(0, this.#scan - 2);
    if (this.#nalStart >= 0 && this.#len - this.#nalStart > this.#limits.maxNalBytes) {
      this.#onDrop({ reason: 'nal_too_large', bytes: this.#len - this.#nalStart });
      this.#dropAu();
      this.#auDropping = true;
      this.#shift(Math.max(this.#nalStart, this.#len - 2));
      this.#nalStart = -1;
      return;
    }
    this.#shift(keepFrom);
    // The grown buffer goes back to a small one once the big unit is gone.
    if (this.#buf.length > 256 * 1024 && this.#len < 64 * 1024) {
      const small = Buffer.alloc(64 * 1024);
      this.#buf.copy(small, 0, 0, this.#len);
      this.#buf = small;
    }
  }

  #shift(from: number): void {
    if (from <= 0) return;
    this.#buf.copy(this.#buf, 0, from, this.#len);
    this.#len -= from;
    this.#scan = Math.max(0, this.#scan - from);
    if (this.#nalStart >= 0) this.#nalStart -= from;
  }

  #nal(view: Buffer): void {
    let end = view.length;
    // A 4-byte start code is a zero byte then a 3-byte one: trailing zeros belong to no unit.
    while (end > 0 && view[end - 1] === 0) end -= 1;
    if (end === 0) return;
    const rules = this.#rules;
    const unit = view.subarray(0, end);
    if (!rules.valid(unit)) {
      this.#onDrop({ reason: 'bad_nal_header', bytes: end });
      return;
    }
    const nalu = Buffer.from(unit);
    const aud = rules.isAud(nalu);
    const slice = rules.isSlice(nalu);
    if (this.#startsAu(nalu, aud, slice)) this.#emit();
    if (aud) return;
    if (this.#auDropping) return;
    this.#au.push(nalu);
    this.#auBytes += nalu.length;
    if (slice) this.#auHasPicture = true;
    if (this.#auBytes > this.#limits.maxAuBytes || this.#au.length > this.#limits.maxAuNalus) {
      this.#onDrop({ reason: 'au_too_large', bytes: this.#auBytes });
      this.#dropAu();
      this.#auDropping = true;
    }
  }

  /** What begins a new access unit once the current one has a picture (nal-rules.ts). */
  #startsAu(nalu: Buffer, aud: boolean, slice: boolean): boolean {
    if (aud) return true;
    if (!this.#auHasPicture && !this.#auDropping) return false;
    if (slice) return this.#rules.firstSliceOfPicture(nalu);
    return this.#rules.beginsAccessUnit(nalu);
  }

  #emit(): void {
    const nalus = this.#au;
    const picture = this.#auHasPicture && !this.#auDropping;
    this.#dropAu();
    this.#auDropping = false;
    if (!picture) return;
    this.#onAu({ nalus, keyframe: nalus.some((n) => this.#rules.isKeyframe(n)) });
  }

  #dropAu(): void {
    this.#au = [];
    this.#auBytes = 0;
    this.#auHasPicture = false;
  }
}
