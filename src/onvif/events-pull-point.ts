/**
 * One pull-point subscription: a bounded queue of rendered notification messages, at most one waiting
 * PullMessages (a newer one answers the older with nothing), and an expiry timer that does not keep
 * the process alive.
 */
export class PullPoint {
  readonly id: string;
  /** How far each pull or renewal pushes the termination time (the lifetime asked for at creation). */
  readonly lifetimeMs: number;
  #terminationAt: number;
  #queue: string[] = [];
  #dropped = 0;
  readonly #maxQueue: number;
  #waiter: { limit: number; resolve: (messages: string[]) => void; timer: NodeJS.Timeout } | undefined;
  #expiry: NodeJS.Timeout | undefined;
  readonly #now: () => number;
  readonly #onExpired: (pullPoint: PullPoint) => void;
  #closed = false;

  constructor(options: {
    id: string;
    terminationAt: number;
    maxQueue: number;
    now: () => number;
    onExpired: (pullPoint: PullPoint) => void;
  }) {
    this.id = options.id;
    this.#now = options.now;
    this.#terminationAt = options.terminationAt;
    this.lifetimeMs = Math.max(0, options.terminationAt - options.now());
    this.#maxQueue = options.maxQueue;
    this.#onExpired = options.onExpired;
    this.#armExpiry();
  }

  get terminationAt(): number {
    return this.#terminationAt;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Messages dropped (oldest first) because the client did not pull them in time; reset when read. */
  takeDropped(): number {
    const dropped = this.#dropped;
    this.#dropped = 0;
    return dropped;
  }

  get queued(): number {
    return this.#queue.length;
  }

  push(messages: readonly string[]): void {
    if (this.#closed) return;
    this.#queue.push(...messages);
    const excess = this.#queue.length - this.#maxQueue;
    if (excess > 0) {
      this.#queue.splice(0, excess);
      this.#dropped += excess;
    }
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      clearTimeout(waiter.timer);
      waiter.resolve(this.#take(waiter.limit));
    }
  }

  /** Messages at once when some are queued, else the first to come within `timeoutMs`, else none. */
  pull(limit: number, timeoutMs: number): Promise<string[]> {
    if (this.#closed) return Promise.resolve([]);
    if (this.#queue.length > 0 || timeoutMs <= 0) return Promise.resolve(this.#take(limit));
    this.#answerWaiter();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.#waiter?.timer === timer) this.#waiter = undefined;
        resolve([]);
      }, timeoutMs);
      timer.unref();
      this.#waiter = { limit, resolve, timer };
    });
  }

  /** Moves the termination time (a pull or a Renew); never earlier than now. */
  renew(terminationAt: number): void {
    if (this.#closed) return;
    this.#terminationAt = Math.max(terminationAt, this.#now());
    this.#armExpiry();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#expiry);
    this.#answerWaiter();
    this.#queue = [];
  }

  #take(limit: number): string[] {
    return this.#queue.splice(0, limit);
  }

  #answerWaiter(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (!waiter) return;
    clearTimeout(waiter.timer);
    waiter.resolve([]);
  }

  #armExpiry(): void {
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => this.#onExpired(this), Math.max(0, this.#terminationAt - this.#now()));
    this.#expiry.unref();
  }
}
