import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/logger.js';
import { SecretValues } from '../../src/core/redact.js';
import type { AnalysisFrame } from '../../src/media/capture.js';
import { createMedia } from '../../src/media/wiring.js';
import { defaultSettings } from '../../src/settings/apply.js';
import { chooseVideo } from '../../src/webrtc/video-choice.js';
import { LineLog } from '../helpers/lines.js';
import { ffmpeg, type TempDir, tempDir } from '../helpers/media-fixtures.js';

const log = createLogger({ level: 'fatal', secrets: new SecretValues() });

describe('a pipe source that is H.265 only (no sub input)', () => {
  let dir: TempDir;
  let file: string;

  beforeAll(async () => {
    dir = await tempDir();
    file = join(dir.path, 'loop.h265');
    await ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25', '-t', '1'],
      ...['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:keyint=5:bframes=0'],
      ...['-f', 'hevc', file],
    ]);
    expect((await readFile(file)).length).toBeGreaterThan(0);
  }, 30_000);
  afterAll(() => dir.remove());

  it('refuses a codec it does not know, naming the key', () => {
    expect(() =>
      parseConfig({ media: { source: { kind: 'pipe', main: { fifo: '/x', codec: 'vp8' } } } }),
    ).toThrow(/media\.source/);
    expect(() =>
      parseConfig({ media: { source: { kind: 'pipe', codec: 'hevc', main: { fifo: '/x' } } } }),
    ).toThrow(/media\.source/);
  });

  it('the sub hub carries the H.265 main stream, analysis decodes it, and WebRTC has no stream to send', async () => {
    const script = `const b=require('fs').readFileSync(${JSON.stringify(file)});setInterval(()=>process.stdout.write(b),200)`;
    const config = parseConfig({
      media: {
        source: { kind: 'pipe', codec: 'h265', main: { command: [process.execPath, '-e', script], fps: 25 } },
        restart: { initialMs: 50, maxMs: 200 },
      },
    }).media;
    const settings = defaultSettings();
    const frames: AnalysisFrame[] = [];
    let threeFrames!: () => void;
    const analysed = new Promise<void>((resolve) => {
      threeFrames = resolve;
    });
    const { hubs, capture } = createMedia({
      config,
      settings: () => settings,
      onAnalysisFrame: (frame) => {
        if (frames.push(frame) === 3) threeFrames();
      },
      raiseError: async () => undefined,
      log,
    });
    expect([hubs.main.codec, hubs.sub.codec]).toEqual(['h265', 'h265']);
    // WebRTC sends H.264 only: with no H.264 stream the offer is refused (no_h264_stream).
    expect(chooseVideo(hubs)).toBeUndefined();
    try {
      await capture?.start();
      await analysed;
      expect(hubs.sub.video).toMatchObject({ codec: 'h265', width: 160, height: 90 });
      expect(frames[0]).toMatchObject({ width: config.analysis.width, height: config.analysis.height });
    } finally {
      await capture?.stop();
    }
  }, 40_000);

  it('an H.265 stream configured as H.264 gives no picture, and the log asks about the codec once', async () => {
    const lines = new LineLog();
    const capturing = createLogger({
      level: 'warn',
      secrets: new SecretValues(),
      destination: { write: (line: string) => lines.push(line) },
    });
    const script = `const b=require('fs').readFileSync(${JSON.stringify(file)});setInterval(()=>process.stdout.write(b),20)`;
    const config = parseConfig({
      media: { source: { kind: 'pipe', main: { command: [process.execPath, '-e', script], fps: 25 } } },
    }).media;
    const settings = defaultSettings();
    const { hubs, capture } = createMedia({
      config,
      settings: () => settings,
      onAnalysisFrame: () => undefined,
      raiseError: async () => undefined,
      log: capturing,
    });
    let pictures = 0;
    hubs.main.on('video', () => {
      pictures += 1;
    });
    const isHint = (l: string) => l.includes('is the stream') && l.includes('media.source.main.codec');
    const hint = () => lines.lines.filter(isHint);
    try {
      await capture?.start();
      await lines.waitFor(isHint, 'the codec hint', 20_000);
      // Written over and over, the stream never gives a picture; the question is asked once. Nothing to
      // await for an absence: the stand-in writes the stream 25 more times in this window.
      await new Promise((r) => setTimeout(r, 500));
      expect(hint()).toHaveLength(1);
      expect(pictures).toBe(0);
      expect(hubs.main.video).toBeUndefined();
    } finally {
      await capture?.stop();
    }
  }, 40_000);

  it('WebRTC takes main when it is H.264, else an H.264 sub stream', () => {
    const config = (source: unknown) => parseConfig({ media: { source } }).media;
    const media = (source: unknown) =>
      createMedia({
        config: config(source),
        settings: defaultSettings,
        onAnalysisFrame: () => undefined,
        raiseError: async () => undefined,
        log,
      }).hubs;
    expect(chooseVideo(media({ kind: 'test' }))).toMatchObject({ stream: 'main' });
    expect(chooseVideo(media({ kind: 'test' }))?.reason).toBeUndefined();
    expect(
      chooseVideo(media({ kind: 'pipe', main: { fifo: '/m', codec: 'h265' }, sub: { fifo: '/s' } })),
    ).toMatchObject({ stream: 'sub', reason: 'main_not_h264' });
    expect(
      chooseVideo(
        media({ kind: 'pipe', codec: 'h265', main: { fifo: '/m' }, sub: { fifo: '/s', codec: 'h264' } }),
      ),
    ).toMatchObject({ stream: 'sub' });
  });
});
