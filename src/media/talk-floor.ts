import type { Logger } from '../core/logger.js';
import type { Speaker } from '../webrtc/speaker.js';

/** One talker's hold on the speaker. */
export interface TalkTurn {
  /** Resolves once the speaker is open for this talker (after the previous talker's close). */
  readonly opened: Promise<void>;
  /** µ-law at 8 kHz; ignored once released. */
  play(ulaw: Buffer): void;
  /** Gives the speaker back (closes it); idempotent. */
  release(): void;
}

/**
 * The one-talker rule shared by every way of talking to the camera (WebRTC talk-back, the ONVIF
 * RTSP back channel): the speaker belongs to one talker at a time, the next one is refused until it is
 * released, and a new talker's open waits for the last one's close (or the sim's file would be closed
 * under it).
 */
export class TalkFloor {
  readonly #speaker: Speaker | undefined;
  readonly #log: Logger;
  #holder: { who: string } | undefined;
  #closed: Promise<void> = Promise.resolve();

  constructor(speaker: Speaker | undefined, log: Logger) {
    this.#speaker = speaker;
    this.#log = log.child({ module: 'talk' });
  }

  get hasSpeaker(): boolean {
    return this.#speaker !== undefined;
  }

  /** Who talks now (`webrtc`, `rtsp`), if anyone. */
  get talker(): string | undefined {
    return this.#holder?.who;
  }

  /** The speaker for `who`, or undefined when there is none or someone else talks. */
  take(who: string): TalkTurn | undefined {
    const speaker = this.#speaker;
    if (!speaker || this.#holder) return undefined;
    const holder = { who };
    this.#holder = holder;
    let released = false;
    const opened = this.#closed.then(() => speaker.open());
    this.#log.info({ talker: who }, 'speaker taken');
    return {
      opened,
      play: (ulaw) => {
        if (!released) speaker.play(ulaw);
      },
      release: () => {
        if (released) return;
        released = true;
        if (this.#holder === holder) this.#holder = undefined;
        this.#closed = opened
          .catch(() => undefined)
          .then(() => speaker.close())
          .catch((err: unknown) => this.#log.warn({ err }, 'speaker close failed'));
        this.#log.info({ talker: who }, 'speaker released');
      },
    };
  }
}
