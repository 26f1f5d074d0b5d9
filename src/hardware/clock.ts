/**
 * Time behind an interface (as MQTT.js's get-timer does), so debouncing, long presses and blink
 * patterns run on a clock that tests move by hand instead of waiting.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clear(handle: TimerHandle | undefined): void;
}

export class SystemClock implements Clock {
  readonly #timers = new Map<number, NodeJS.Timeout>();
  #next = 1;

  now(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    const t = setTimeout(() => {
      this.#timers.delete(id);
      fn();
    }, ms);
    t.unref();
    this.#timers.set(id, t);
    return { id };
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    const t = setInterval(fn, ms);
    t.unref();
    this.#timers.set(id, t);
    return { id };
  }

  clear(handle: TimerHandle | undefined): void {
    if (!handle) return;
    clearTimeout(this.#timers.get(handle.id));
    this.#timers.delete(handle.id);
  }
}

interface ManualTimer {
  id: number;
  due: number;
  every: number | undefined;
  fn: () => void;
}

/** A clock that only moves when told: `advance` runs every timer that falls due, in order. */
export class ManualClock implements Clock {
  #now = 0;
  #next = 1;
  readonly #timers = new Map<number, ManualTimer>();

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  clear(handle: TimerHandle | undefined): void {
    if (handle) this.#timers.delete(handle.id);
  }

  /** Moves time forward by `ms`, firing due timers (including ones they schedule) at their own time. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let first: ManualTimer | undefined;
      for (const t of this.#timers.values()) if (t.due <= target && (!first || t.due < first.due)) first = t;
      if (!first) break;
      this.#now = first.due;
      if (first.every === undefined) this.#timers.delete(first.id);
      else first.due += first.every;
      first.fn();
    }
    this.#now = target;
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  #add(fn: () => void, ms: number, every: number | undefined): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { id, due: this.#now + Math.max(0, ms), every, fn });
    return { id };
  }
}
