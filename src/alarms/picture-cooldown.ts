/**
 * The owner's `cooldownSeconds`: after an event that was notified (its picture taken, a push due) ends,
 * the events of the next `cooldownSeconds` are still raised, each on its own, but without a picture, a
 * clip or a push (`notify: false`). So a busy street yields every event and one notification per
 * cooldown, not a notification per passer-by. Time is the analysis frames' clock.
 */
export class PictureCooldown {
  #until = Number.NEGATIVE_INFINITY;
  #open = false;

  /** Whether an event starting at `ts` is notified; if so, the cooldown runs from its end. */
  start(ts: number): boolean {
    this.#open = ts >= this.#until;
    return this.#open;
  }

  /** The event that `start` was asked about ended at `ts`. */
  end(ts: number, cooldownSeconds: number): void {
    if (this.#open) this.#until = ts + Math.max(0, cooldownSeconds) * 1000;
    this.#open = false;
  }
}
