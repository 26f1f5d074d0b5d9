import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { SecretValues } from '../../src/core/redact.js';
import { PipeInputReader } from '../../src/media/pipe-input.js';

const log = createLogger({ level: 'fatal', secrets: new SecretValues() });
const restart = { initialMs: 50, maxMs: 200, stableAfterMs: 1000 };

function next<T extends unknown[]>(reader: PipeInputReader, event: 'open' | 'end' | 'data'): Promise<T> {
  return new Promise((resolve) => reader.once(event, (...args: unknown[]) => resolve(args as T)));
}

describe('pipe inputs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pipe-input-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('connects to a Unix socket, reads it, and reconnects after the streamer restarts', async () => {
    const path = join(dir, 'main.sock');
    let conns: Socket[] = [];
    const server = createServer((s) => conns.push(s));
    await new Promise<void>((r) => server.listen(path, r));
    const reader = new PipeInputReader({ socket: path }, restart, log);
    const chunks: Buffer[] = [];
    reader.on('data', (c) => chunks.push(c));
    try {
      const opened = next(reader, 'open');
      reader.start();
      await opened;
      await until(() => conns.length === 1);
      conns[0]?.write(Buffer.from([0, 0, 0, 1, 0x09, 0xf0]));
      await until(() => chunks.length > 0);
      expect(Buffer.concat(chunks).toString('hex')).toBe('0000000109f0');
      // The streamer goes away and comes back: the reader opens again.
      const ended = next(reader, 'end');
      for (const c of conns) c.destroy();
      conns = [];
      await ended;
      const reopened = next(reader, 'open');
      await reopened;
      await until(() => conns.length === 1);
    } finally {
      await reader.stop();
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses a path that is not a named pipe', async () => {
    const path = join(dir, 'plain-file');
    await writeFile(path, 'not a fifo');
    // Three refusals in a row: the reader went on trying on its backoff and never opened the file.
    let refusals = 0;
    let refusedThrice: () => void = () => undefined;
    const refused = new Promise<void>((resolve) => {
      refusedThrice = resolve;
    });
    const watching = createLogger({
      level: 'warn',
      secrets: new SecretValues(),
      destination: {
        write: (line: string) => {
          if (line.includes('pipe input cannot be opened') && line.includes('is not a named pipe')) {
            refusals += 1;
            if (refusals === 3) refusedThrice();
          }
        },
      },
    });
    const reader = new PipeInputReader({ fifo: path }, restart, watching);
    let opened = 0;
    reader.on('open', () => {
      opened += 1;
    });
    reader.start();
    await refused;
    await reader.stop();
    expect(opened).toBe(0);
  });

  it('supervises a command and reads its stdout, restarting it when it exits', async () => {
    const reader = new PipeInputReader(
      { command: [process.execPath, '-e', 'process.stdout.write(Buffer.from([0,0,1,0x65,0x88]))'] },
      restart,
      log,
    );
    let opens = 0;
    const chunks: Buffer[] = [];
    reader.on('open', () => {
      opens += 1;
    });
    reader.on('data', (c) => chunks.push(c));
    reader.start();
    try {
      await until(() => opens >= 2 && chunks.length >= 2, 10_000);
      expect(chunks[0]?.toString('hex')).toBe('0000016588');
    } finally {
      await reader.stop();
    }
  });

  // A program that stays up but writes nothing (a hung camera stack) is restarted, and one that ignores
  // SIGTERM is killed.
  it.each([
    ['stdout', "process.stdout.write('x');setInterval(()=>{},1000)", [], /"stream":"stdout"/],
    [
      'fd 3, while stdout flows',
      "const fs=require('fs');fs.writeSync(3,'x');setInterval(()=>process.stdout.write('x'),100)",
      [3],
      /"stream":"fd 3"/,
    ],
    [
      'stdout, the program deaf to SIGTERM',
      "process.on('SIGTERM',()=>{});process.stdout.write('x');setInterval(()=>{},1000)",
      [],
      /silent pipe writer did not stop: killing it/,
    ],
  ])('restarts a writer silent on %s', async (_name, script, siblings, says) => {
    const lines: string[] = [];
    const watching = createLogger({
      level: 'warn',
      secrets: new SecretValues(),
      destination: { write: (line: string) => lines.push(line) },
    });
    const reader = new PipeInputReader(
      { command: [process.execPath, '-e', script], silenceSeconds: 1 },
      restart,
      watching,
      { watchSilence: true },
    );
    for (const fd of siblings) reader.sibling(fd);
    const pids: number[] = [];
    reader.on('open', () => pids.push(reader.pid ?? 0));
    reader.start();
    try {
      await until(() => pids.length >= 2, 15_000);
      expect(new Set(pids).size).toBe(pids.length);
      expect(lines.join('')).toMatch(/pipe writer silent: restarting it/);
      expect(lines.join('')).toMatch(says);
    } finally {
      await reader.stop();
    }
  });

  it('leaves a writer that keeps writing alone', async () => {
    const reader = new PipeInputReader(
      {
        command: [process.execPath, '-e', "setInterval(()=>process.stdout.write('x'),100)"],
        silenceSeconds: 1,
      },
      restart,
      log,
      { watchSilence: true },
    );
    let opens = 0;
    let bytes = 0;
    reader.on('open', () => {
      opens += 1;
    });
    reader.on('data', (c) => {
      bytes += c.length;
    });
    reader.start();
    try {
      // Nothing to await for an absence: 2.5 s is two and a half silences' worth of chances to restart.
      await until(() => bytes >= 25, 10_000);
      await new Promise((r) => setTimeout(r, 2500));
      expect(opens).toBe(1);
    } finally {
      await reader.stop();
    }
  });
});

async function until(test: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
