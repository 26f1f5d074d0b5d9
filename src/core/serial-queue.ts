import { AgentError } from './errors.js';

export interface SerialQueueOptions {
  /** Tasks allowed to wait at once; one more is refused with `queue_full` instead of growing memory. */
  maxPending?: number;
  /** Where the failure of a task queued with `push` (nobody awaits it) goes. */
  onError?: (err: unknown) => void;
}

/**
 * Runs tasks one at a time, in the order they were queued.
 *
 * The one rule: a task starts when the task before it has settled, whether that one succeeded or
 * failed. A failure belongs to the caller of that task (`run` rejects with it; `push` hands it to
 * `onError`) and never reaches the tasks after it, so one failed save cannot disable the queue.
 */
export class SerialQueue {
  readonly #maxPending: number;
  readonly #onError: (err: unknown) => void;
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(options: SerialQueueOptions = {}) {
    this.#maxPending = options.maxPending ?? Number.POSITIVE_INFINITY;
    this.#onError = options.onError ?? (() => {});
  }

  /** Tasks queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Queues a task and settles with its own outcome. */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    if (this.#pending >= this.#maxPending)
      return Promise.reject(new AgentError('queue_full', `more than ${this.#maxPending} tasks waiting`));
    this.#pending += 1;
    const result = this.#tail.then(task).finally(() => {
      this.#pending -= 1;
    });
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Queues a task nobody waits for; its failure goes to `onError`. */
  push(task: () => unknown): void {
    this.run(task).catch((err: unknown) => this.#onError(err));
  }

  /** Resolves when every task queued so far has settled. */
  idle(): Promise<void> {
    return this.#tail;
  }
}
