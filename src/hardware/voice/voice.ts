import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { SerialQueue } from '../../core/serial-queue.js';
import type { PromptName } from './prompts.js';

export interface Voice {
  /** Resolves when the prompt has been played (or dropped because the voice stopped). */
  say(prompt: PromptName): Promise<void>;
  stop(): Promise<void>;
}

/** Where the sound goes: an ALSA device on a camera; numbered WAV files in the simulator. */
export type VoiceOutput = { kind: 'alsa'; device: string } | { kind: 'files'; dir: string };

/** The exact ffmpeg argv for playing one prompt file. Pure. */
export function playbackArgs(file: string, output: VoiceOutput, target?: string): string[] {
  const input = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file];
  if (output.kind === 'alsa') return [...input, '-f', 'alsa', output.device];
  return [...input, '-c:a', 'pcm_s16le', '-f', 'wav', '-y', target ?? join(output.dir, 'out.wav')];
}

/**
 * Speaks prompts one after another through ffmpeg (argv arrays, never a shell). Each playback is a
 * one-shot process, watched rather than restarted: a prompt that fails is logged and skipped, one
 * that hangs is killed after `maxMs`, and stop() kills the one playing.
 */
export class FfmpegVoice
  extends EventEmitter<{ spoken: [prompt: PromptName, target: string | undefined] }>
  implements Voice
{
  readonly #promptsDir: string;
  readonly #output: VoiceOutput;
  readonly #log: Logger;
  readonly #ffmpeg: string;
  readonly #maxMs: number;
  /** Prompts one after another; one that fails to play is logged in #play and never stops the next. */
  readonly #queue: SerialQueue;
  #current: ChildProcess | undefined;
  #stopped = false;
  #count = 0;

  constructor(options: {
    promptsDir: string;
    output: VoiceOutput;
    log: Logger;
    ffmpeg?: string;
    maxMs?: number;
    /** Settles when the prompt files are there; prompts wait for it. */
    ready?: Promise<unknown>;
  }) {
    super();
    this.#promptsDir = options.promptsDir;
    this.#output = options.output;
    this.#log = options.log.child({ module: 'voice' });
    this.#ffmpeg = options.ffmpeg ?? 'ffmpeg';
    this.#maxMs = options.maxMs ?? 10000;
    // A handful of prompts can be waiting (setup steps in a row); past that, a new one is refused.
    this.#queue = new SerialQueue({ maxPending: 16 });
    const ready = options.ready;
    // Prompt files not there (yet): the first task waits for them, so every prompt does.
    if (ready !== undefined) this.#queue.push(() => ready.then(() => undefined));
  }

  say(prompt: PromptName): Promise<void> {
    // Never rejects: callers fire and forget, and a dropped prompt is only worth a log line.
    return this.#queue
      .run(() => this.#play(prompt))
      .catch((err: unknown) => this.#log.warn({ err, prompt }, 'voice prompt dropped'));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#current?.kill('SIGTERM');
    await this.#queue.idle();
  }

  async #play(prompt: PromptName): Promise<void> {
    if (this.#stopped) return;
    let target: string | undefined;
    if (this.#output.kind === 'files') {
      await mkdir(this.#output.dir, { recursive: true });
      target = join(this.#output.dir, `${String(++this.#count).padStart(4, '0')}-${prompt}.wav`);
    }
    const args = playbackArgs(join(this.#promptsDir, `${prompt}.wav`), this.#output, target);
    const child = spawn(this.#ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'], shell: false });
    this.#current = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), this.#maxMs);
    const code = await new Promise<number | null>((resolve) => {
      child.once('error', (err) => {
        this.#log.warn({ err, prompt }, 'cannot start ffmpeg for a voice prompt');
        resolve(null);
      });
      child.once('close', (c) => resolve(c));
    });
    clearTimeout(timer);
    this.#current = undefined;
    if (code === 0) {
      this.emit('spoken', prompt, target);
      this.#log.debug({ prompt }, 'voice prompt played');
    } else if (!this.#stopped) {
      this.#log.warn({ prompt, code, stderr: stderr.trim().slice(-300) }, 'voice prompt failed');
    }
  }
}
