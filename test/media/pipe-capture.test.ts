import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/logger.js';
import { SecretValues } from '../../src/core/redact.js';
import { StreamHub } from '../../src/media/hub.js';
import { PipeCapture } from '../../src/media/pipe-capture.js';
import { defaultSettings } from '../../src/settings/apply.js';
import { moreEvents } from '../helpers/events.js';
import { ffmpeg, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { childProcesses } from '../helpers/proc.js';

const log = createLogger({ level: 'fatal', secrets: new SecretValues() });

describe('pipe capture and privacy mode', () => {
  let dir: TempDir;
  let file: string;

  let small: string;

  beforeAll(async () => {
    dir = await tempDir();
    file = join(dir.path, 'loop.h264');
    small = join(dir.path, 'small.h264');
    for (const [out, size] of [
      [file, '160x90'],
      [small, '96x54'],
    ] as const)
      await ffmpeg([
        ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-t', '1'],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-bf', '0', '-f', 'h264', out],
      ]);
    expect((await readFile(file)).length).toBeGreaterThan(0);
  }, 30_000);
  afterAll(() => dir.remove());

  it('stops reading while privacy mode is on and starts again after it', async () => {
    // A stand-in encoder: writes the file over and over, never ending.
    const script = `const b=require('fs').readFileSync(${JSON.stringify(file)});setInterval(()=>process.stdout.write(b),100)`;
    const source = { kind: 'pipe' as const, main: { command: [process.execPath, '-e', script], fps: 25 } };
    const config = parseConfig({ media: { source, restart: { initialMs: 50, maxMs: 200 } } }).media;
    const settings = defaultSettings();
    const hubs = { main: new StreamHub('main'), sub: new StreamHub('sub') };
    let main = 0;
    let sub = 0;
    hubs.main.on('video', () => {
      main += 1;
    });
    hubs.sub.on('video', () => {
      sub += 1;
    });
    const capture = new PipeCapture({ config, source, hubs, settings: () => settings, log });
    try {
      const first = moreEvents(hubs.main, 'video', 31);
      await capture.start();
      await first;
      // Without a sub input, the sub hub carries the main stream, with its parameter sets.
      expect(sub).toBe(main);
      expect(hubs.sub.video).toMatchObject({ codec: 'h264', width: 160, height: 90 });

      settings.privacyMode = true;
      await capture.apply(['privacyMode']);
      expect(capture.running).toBe(false);
      const stopped = main;
      // Nothing to await for an absence: three of the stand-in's writes would have come by in this window.
      await new Promise((r) => setTimeout(r, 300));
      expect(main).toBe(stopped);
      expect(hubs.main.cachedGop().video).toEqual([]);

      settings.privacyMode = false;
      const again = moreEvents(hubs.main, 'video', 31);
      await capture.apply(['privacyMode']);
      await again;
    } finally {
      await capture.stop();
    }
  });

  it('reads a sub stream from fd 3 of the main writer: one program, both hubs, through privacy mode and a crash', async () => {
    // A stand-in camera program: main on stdout, a smaller sub stream on fd 3 (the Picamera2 program's
    // shape), its pid on stderr.
    const script = [
      "const fs=require('fs');",
      `const m=fs.readFileSync(${JSON.stringify(file)}),s=fs.readFileSync(${JSON.stringify(small)});`,
      'setInterval(()=>{process.stdout.write(m);fs.writeSync(3,s)},100)',
    ].join('');
    const source = {
      kind: 'pipe' as const,
      main: { command: [process.execPath, '-e', script], fps: 25 },
      sub: { siblingFd: 3, fps: 25 },
    };
    const config = parseConfig({
      media: { source: { kind: 'pipe', main: { fifo: '/unused' } }, restart: { initialMs: 50, maxMs: 200 } },
    }).media;
    const settings = defaultSettings();
    const hubs = { main: new StreamHub('main'), sub: new StreamHub('sub') };
    const capture = new PipeCapture({ config, source, hubs, settings: () => settings, log });
    const flowing = () =>
      Promise.all([moreEvents(hubs.main, 'video', 31), moreEvents(hubs.sub, 'video', 31)]);
    const writers = async () => (await childProcesses(process.pid)).filter((c) => c.argv.includes(script));
    try {
      let both = flowing();
      await capture.start();
      await both;
      expect(hubs.main.video).toMatchObject({ width: 160, height: 90 });
      expect(hubs.sub.video).toMatchObject({ width: 96, height: 54 });
      const [first] = await writers();
      expect(await writers()).toHaveLength(1);

      settings.privacyMode = true;
      await capture.apply(['privacyMode']);
      expect(await writers()).toEqual([]);
      expect(hubs.sub.cachedGop().video).toEqual([]);

      settings.privacyMode = false;
      both = flowing();
      await capture.apply(['privacyMode']);
      await both;

      // The program dies: the supervisor starts it again, and the sub hub starts over with it.
      const [second] = await writers();
      expect(second?.pid).not.toBe(first?.pid);
      const resets = vi.spyOn(hubs.sub, 'reset');
      process.kill(second?.pid ?? 0, 'SIGKILL');
      let third = second;
      while (!third || third.pid === second?.pid) {
        await new Promise((r) => setTimeout(r, 50));
        [third] = await writers();
      }
      await flowing();
      // What the killed program left half-written does not continue into the new one's stream.
      expect(resets).toHaveBeenCalled();
      expect(hubs.sub.video).toMatchObject({ width: 96, height: 54 });
    } finally {
      await capture.stop();
    }
    expect(await writers()).toEqual([]);
  });

  it('times pictures by a monotonic clock: the wall clock set back (NTP on a camera without a battery clock) changes nothing', async () => {
    // The 1 s file in tenths every 100 ms: the pictures' own pace, as an encoder writes them.
    const script = `const b=require('fs').readFileSync(${JSON.stringify(file)});let i=0;const n=Math.ceil(b.length/10);setInterval(()=>{process.stdout.write(b.subarray(i*n,(i+1)*n));i=(i+1)%10},100)`;
    const source = { kind: 'pipe' as const, main: { command: [process.execPath, '-e', script], fps: 25 } };
    const config = parseConfig({ media: { source, restart: { initialMs: 50, maxMs: 200 } } }).media;
    const settings = defaultSettings();
    const hubs = { main: new StreamHub('main'), sub: new StreamHub('sub') };
    const pts: number[] = [];
    hubs.main.on('video', (au) => pts.push(au.pts));
    const capture = new PipeCapture({ config, source, hubs, settings: () => settings, log });
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const first = moreEvents(hubs.main, 'video', 30);
      await capture.start();
      await first;
      // An hour back, then two minutes on: neither is a gap or a burst in the stream.
      vi.setSystemTime(Date.now() - 3_600_000);
      await moreEvents(hubs.main, 'video', 30);
      vi.setSystemTime(Date.now() + 120_000);
      await moreEvents(hubs.main, 'video', 30);
    } finally {
      vi.useRealTimers();
      await capture.stop();
    }
    // Whole frame periods (90 kHz / 25) throughout.
    const steps = new Set(pts.slice(1).map((p, i) => p - (pts[i] ?? 0)));
    expect([...steps]).toEqual([3600]);
  }, 20_000);
});
