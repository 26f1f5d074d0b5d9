import type { DaemonOptions } from '../app/daemon.js';

/**
 * The simulator's banner (where everything is). It is held back while the modules start and printed
 * once they have, so it is the last thing on the screen rather than buried in start-up logs. A line
 * that arrives later (the SoftAP server started by the button) is printed at once.
 */
export class Banner {
  #pending: string[] | undefined;
  readonly #write: (text: string) => void;

  constructor(lines: readonly string[], write: (text: string) => void = (t) => process.stdout.write(t)) {
    this.#pending = [...lines];
    this.#write = write;
  }

  line(text: string): void {
    if (this.#pending) this.#pending.push(text);
    else this.#write(`${text}\n`);
  }

  flush(): void {
    if (!this.#pending) return;
    const lines = this.#pending;
    this.#pending = undefined;
    this.#write(`\n${lines.join('\n')}\n`);
  }

  /** The daemon's options with the banner printed before their own `onStarted` (which adds the RTSP line). */
  around(options: DaemonOptions): DaemonOptions {
    const { onStarted } = options;
    return {
      ...options,
      onStarted: (agent) => {
        this.flush();
        return onStarted?.(agent);
      },
    };
  }
}
