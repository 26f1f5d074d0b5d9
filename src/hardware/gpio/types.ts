/** What the hardware features need from a GPIO line; values are logical (active-low already applied). */
export interface DigitalInput {
  read(): boolean;
  /** Calls `onChange` whenever the line may have changed; returns the function that stops watching. */
  watch(onChange: () => void): () => void;
}

export interface DigitalOutput {
  write(active: boolean): void;
}
