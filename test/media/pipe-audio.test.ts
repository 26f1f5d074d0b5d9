import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { SecretValues } from '../../src/core/redact.js';
import { parseAdts } from '../../src/media/aac.js';
import type { PipeAudioInput } from '../../src/media/config.js';
import { alawToMulaw, linearToMulaw } from '../../src/media/g711.js';
import { StreamHub } from '../../src/media/hub.js';
import { PipeAudio } from '../../src/media/pipe-audio.js';
import type { AudioFrame } from '../../src/media/types.js';
import { ffprobe, type MediaDevice, startMediaDevice } from '../helpers/media.js';
import { ffmpeg, run, tempDir } from '../helpers/media-fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';

const log = createLogger({ level: 'fatal', secrets: new SecretValues() });
const restart = { initialMs: 100, maxMs: 1000, stableAfterMs: 10000 };

function audioOf(input: Omit<PipeAudioInput, 'fifo'>) {
  const hubs = { main: new StreamHub('main'), sub: new StreamHub('sub') };
  const audio = new PipeAudio({ fifo: '/unused', ...input } as PipeAudioInput, hubs, restart, log);
  const aac: AudioFrame[] = [];
  const pcmu: AudioFrame[] = [];
  hubs.main.on('audio', (f) => aac.push(f));
  hubs.main.on('pcmu', (f) => pcmu.push(f));
  return { audio, hubs, aac, pcmu };
}

/** Feeds `bytes` in chunks of the given sizes (cycled). */
function feed(audio: PipeAudio, bytes: Buffer, sizes: number[]): void {
  let at = 0;
  for (let i = 0; at < bytes.length; i += 1) {
    const n = sizes[i % sizes.length] ?? 1;
    audio.push(bytes.subarray(at, at + n));
    at += n;
  }
}

describe('pipe audio from recorded bytes', () => {
  let adts: Buffer;
  beforeAll(async () => {
    ({ stdout: adts } = await ffmpeg([
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000', '-t', '1'],
      ...['-c:a', 'aac', '-b:a', '32k', '-ac', '1', '-f', 'adts', 'pipe:1'],
    ]));
  });

  it('ADTS in any chunking: every AAC frame on both hubs, the track from its header, 1024 samples apart', () => {
    const expected = parseAdts(adts).frames.map((f) => f.data.toString('hex'));
    for (const sizes of [[adts.length], [1], [7, 300, 2], [4096]]) {
      const { audio, hubs, aac } = audioOf({ format: 'adts' });
      feed(audio, adts, sizes);
      expect(aac.map((f) => f.data.toString('hex'))).toEqual(expected);
      expect(aac.map((f) => f.pts)).toEqual(expected.map((_, i) => i * 1024));
      expect(hubs.sub.audio).toEqual(hubs.main.audio);
      expect(hubs.main.audio).toMatchObject({ codec: 'aac', sampleRate: 16000, channels: 1, config: '1408' });
    }
  });

  it('garbage without sync words is not buffered without end', () => {
    const { audio, aac } = audioOf({ format: 'adts' });
    for (let i = 0; i < 100; i += 1) audio.push(Buffer.alloc(10_000, 0x11));
    expect(aac).toEqual([]);
    feed(audio, adts, [512]);
    expect(aac.length).toBe(parseAdts(adts).frames.length);
  });

  it('µ-law passes as it is in 20 ms frames; A-law is translated; s16le at 16 kHz is taken to 8 kHz µ-law', () => {
    const mulaw = Buffer.from(Array.from({ length: 800 }, (_, i) => i % 256));
    const m = audioOf({ format: 'mulaw' });
    feed(m.audio, mulaw, [33]);
    expect(Buffer.concat(m.pcmu.map((f) => f.data))).toEqual(mulaw);
    expect(m.pcmu.map((f) => f.pts)).toEqual([0, 160, 320, 480, 640]);

    const a = audioOf({ format: 'alaw' });
    feed(a.audio, Buffer.from([0xd5, 0x55, 0x2a, 0xaa, ...Array(156).fill(0xd5)]), [160]);
    // A-law's smallest levels (+8/-8: 0xD5/0x55) are µ-law's +8/-8 (0xFE/0x7E); full scale stays full scale.
    expect([...(a.pcmu[0]?.data.subarray(0, 4) ?? [])]).toEqual([0xfe, 0x7e, 0x00, 0x80]);

    const pcm = Buffer.alloc(16000 * 2 * 2);
    for (let i = 0; i < 32000; i += 1) pcm.writeInt16LE(i % 2 === 0 ? 8000 : -8000, i * 2);
    const s = audioOf({ format: 's16le', sampleRate: 16000, channels: 2 });
    feed(s.audio, pcm, [1001, 3]);
    // One second of stereo 16 kHz: 8000 µ-law samples of the left channel (always +8000).
    const out = Buffer.concat(s.pcmu.map((f) => f.data));
    expect(out.length).toBe(8000);
    expect(new Set(out)).toEqual(new Set(linearToMulaw([8000])));
    expect(alawToMulaw(Buffer.from([0xd5]))).toEqual(linearToMulaw([8]));
  });
});

describe('G.711 µ-law from 16-bit PCM, decoded by ffmpeg', () => {
  it("every 16-bit value comes back within a µ-law step of itself, as from ffmpeg's own encoder", async () => {
    const samples = Array.from({ length: 65536 }, (_, i) => i - 32768);
    const dir = await tempDir();
    const file = join(dir.path, 'all.ulaw');
    await writeFile(file, linearToMulaw(samples));
    const { stdout } = await run('ffmpeg', [
      ...['-v', 'error', '-f', 'mulaw', '-ar', '8000', '-ac', '1', '-i', file, '-f', 's16le', 'pipe:1'],
    ]);
    await dir.remove();
    let worst = 0;
    samples.forEach((s, i) => {
      // µ-law's step is about 1/16 of the segment: at most ~6 % of the value above the smallest levels.
      if (Math.abs(s) > 256) worst = Math.max(worst, Math.abs(stdout.readInt16LE(i * 2) - s) / Math.abs(s));
    });
    expect(worst).toBeLessThan(0.065);
  });
});

const SOUNDS = [
  {
    format: 'adts' as const,
    encode: ['-ar', '16000', '-c:a', 'aac', '-ac', '1', '-f', 'adts'],
    ready: 'pipe audio: AAC track',
    codec: 'aac',
    rate: '16000',
  },
  {
    // G.711 as a SoC's audio driver gives it: no track of its own, µ-law frames on the hubs.
    format: 'mulaw' as const,
    encode: ['-ar', '8000', '-ac', '1', '-f', 'mulaw'],
    ready: 'pipe audio: G.711 frames',
    codec: 'pcm_mulaw',
    rate: '8000',
  },
];

for (const sound of SOUNDS)
  describe(`pipe source with ${sound.format} sound from a command: audio on RTSP next to the passed-through video`, () => {
    let broker: Mosquitto;
    let cam: MediaDevice;

    beforeAll(async () => {
      broker = await Mosquitto.start();
      cam = await startMediaDevice(broker.url, {
        media: {
          source: {
            kind: 'pipe',
            main: {
              fps: 15,
              command: [
                ...['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
                ...[
                  '-f',
                  'lavfi',
                  '-i',
                  'testsrc2=size=320x180:rate=15',
                  '-c:v',
                  'libx264',
                  '-preset',
                  'ultrafast',
                ],
                ...['-g', '15', '-bf', '0', '-x264-params', 'repeat-headers=1', '-f', 'h264', 'pipe:1'],
              ],
            },
            audio: {
              format: sound.format,
              command: [
                ...['ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
                ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000', ...sound.encode, 'pipe:1'],
              ],
            },
          },
        },
      });
      await cam.daemon.waitForLog(sound.ready, 30_000);
    }, 60_000);

    afterAll(async () => {
      await cam?.daemon.kill();
      await broker?.stop();
    });

    it(`ffprobe over RTSP TCP sees H.264 and ${sound.codec} ${sound.rate} Hz mono on main and sub`, async () => {
      for (const path of ['/main', '/sub']) {
        const streams = await ffprobe(cam.url(path), 'tcp');
        expect(streams).toEqual([
          expect.objectContaining({ codec_type: 'video', codec_name: 'h264', width: 320, height: 180 }),
          expect.objectContaining({ codec_type: 'audio', codec_name: sound.codec, sample_rate: sound.rate }),
        ]);
      }
    });
  });
