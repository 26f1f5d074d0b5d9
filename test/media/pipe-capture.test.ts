import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/logger.js';
import { SecretValues } from '../../src/core/redact.js';
import { StreamHub } from '../../src/media/hub.js';
import { PipeCapture } from '../../src/media/pipe-capture.js';
import { defaultSettings } from '../../src/settings/apply.js';
import { moreEvents } from '../helpers/events.js';
import { ffmpeg, type TempDir, tempDir } from '../helpers/media-fixtures.js';

const log = createLogger({ level: 'fatal', secrets: new SecretValues() });

describe('pipe capture and privacy mode', () => {
  let dir: TempDir;
  let file: string;

  beforeAll(async () => {
    dir = await tempDir();
    file = join(dir.path, 'loop.h264');
    await ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25', '-t', '1'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-bf', '0', '-f', 'h264', file],
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
});
