/** What the hardware features need from a GPIO line; values are logical (active-low already applied). */
export interface DigitalInput {
  read(): boolean;
  /** Calls `onChange` whenever the line may have changed; returns the function that stops watching. */
  watch(onChange: () => void): () => void;
}

export interface DigitalOutput {
  write(active: boolean): void;
}

/**
 * A line as the hardware module owns it, whatever drives it (sysfs, the character device through
 * libgpiod's tools): made without I/O, set up in `start()`, given back in `stop()`. A level written
 * before setup is applied by setup.
 */
export interface GpioLine extends DigitalInput, DigitalOutput {
  /** For logs: `/sys/class/gpio/gpio17`, `gpiochip0:17`. */
  readonly path: string;
  setup(): Promise<void>;
  close(): void | Promise<void>;
}
