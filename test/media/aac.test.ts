import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audioSpecificConfig, parseAdts } from '../../src/media/aac.js';
import { StreamType } from '../../src/media/mpegts.js';
import {
  demux,
  ffmpeg,
  framemd5,
  makeTs,
  probeStream,
  probeStreams,
  type TempDir,
  tempDir,
} from '../helpers/media-fixtures.js';

async function makeAdts(path: string, sampleRate: number, channels: number, seconds = 1): Promise<Buffer> {
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${sampleRate}`, '-t', String(seconds)],
    ...['-c:a', 'aac', '-b:a', '64k', '-ac', String(channels), '-f', 'adts', path],
  ]);
  return readFile(path);
}

/** The same frames with protection_absent=0 and a (dummy) CRC after the header, as some encoders write. */
function withCrc(adts: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let pos = 0; pos + 7 <= adts.length; ) {
    const length =
      ((adts[pos + 3] ?? 0) & 0x03) * 2048 + (adts[pos + 4] ?? 0) * 8 + ((adts[pos + 5] ?? 0) >> 5);
    const header = Buffer.from(adts.subarray(pos, pos + 7));
    const longer = length + 2;
    header[1] = (header[1] ?? 0) & 0xfe;
    header[3] = ((header[3] ?? 0) & 0xfc) | (longer >> 11);
    header[4] = (longer >> 3) & 0xff;
    header[5] = (((longer & 0x07) << 5) | ((header[5] ?? 0) & 0x1f)) & 0xff;
    out.push(header, Buffer.from([0xab, 0xcd]), adts.subarray(pos + 7, pos + length));
    pos += length;
  }
  return Buffer.concat(out);
}

describe('ADTS and AudioSpecificConfig', () => {
  let dir: TempDir;

  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    await dir.remove();
  });

  for (const [sampleRate, channels] of [
    [48000, 1],
    [44100, 2],
    [16000, 1],
  ] as const) {
    it(`splits ${sampleRate} Hz ${channels} ch ADTS into as many AUs as ffprobe counts`, async () => {
      const path = join(dir.path, `a-${sampleRate}-${channels}.aac`);
      const adts = await makeAdts(path, sampleRate, channels);
      const probed = await probeStream(path, 'audio');
      const parsed = parseAdts(adts);
      expect(parsed.frames.length).toBe(Number(probed.nb_read_packets));
      expect(parsed).toMatchObject({
        sampleRate: Number(probed.sample_rate),
        channels: probed.channels,
        objectType: 2,
      });
      expect(probed.profile).toBe('LC');
      // Headers gone, nothing else: 7 bytes per frame.
      const total = parsed.frames.reduce((n, f) => n + f.data.length, 0);
      expect(total).toBe(adts.length - 7 * parsed.frames.length);
    });
  }

  it('splits the audio PES of the capture-shaped MPEG-TS (several frames per PES) into every frame', async () => {
    const tsPath = join(dir.path, 'out.ts');
    const ts = await makeTs(tsPath);
    const audio = demux(ts).filter((p) => p.streamType === StreamType.AAC_ADTS);
    const frames = audio.flatMap((p) => parseAdts(p.data).frames);
    expect(audio.length).toBeLessThan(frames.length);
    expect(frames.length).toBe(Number((await probeStream(tsPath, 'audio')).nb_read_packets));
  });

  it('reads frames that carry a CRC, which ffmpeg decodes to the same audio', async () => {
    const path = join(dir.path, 'plain.aac');
    const adts = await makeAdts(path, 48000, 1);
    const crcPath = join(dir.path, 'crc.aac');
    const protectedAdts = withCrc(adts);
    await writeFile(crcPath, protectedAdts);
    const decode = async (file: string) =>
      framemd5((await ffmpeg(['-i', file, '-f', 'framemd5', '-'])).stdout);
    expect(await decode(crcPath)).toEqual(await decode(path));
    const plain = parseAdts(adts).frames.map((f) => f.data.toString('hex'));
    expect(parseAdts(protectedAdts).frames.map((f) => f.data.toString('hex'))).toEqual(plain);
  });

  it('skips garbage before a frame and drops a truncated last frame', async () => {
    const adts = await makeAdts(join(dir.path, 'g.aac'), 48000, 1, 0.2);
    const frames = parseAdts(adts).frames;
    const dirty = Buffer.concat([Buffer.from([1, 2, 0xff, 3]), adts.subarray(0, adts.length - 3)]);
    const parsed = parseAdts(dirty).frames.map((f) => f.data.toString('hex'));
    expect(parsed).toEqual(frames.slice(0, -1).map((f) => f.data.toString('hex')));
    expect(parseAdts(Buffer.alloc(0))).toEqual({ frames: [], sampleRate: 0, channels: 0, objectType: 0 });
  });

  it('never throws on random bytes and returns views within the input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const { frames } = parseAdts(buf);
        expect(frames.reduce((n, f) => n + f.data.length, 0)).toBeLessThanOrEqual(buf.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('builds the AudioSpecificConfig that ffmpeg writes into MP4', async () => {
    expect(audioSpecificConfig(2, 48000, 1)).toBe('1188');
    expect(audioSpecificConfig(2, 44100, 2)).toBe('1210');
    for (const [sampleRate, channels] of [
      [48000, 1],
      [44100, 2],
      [8000, 1],
    ] as const) {
      const path = join(dir.path, `asc-${sampleRate}-${channels}.m4a`);
      await ffmpeg([
        ...['-f', 'lavfi', '-i', `sine=sample_rate=${sampleRate}`, '-t', '0.1'],
        ...['-c:a', 'aac', '-ac', String(channels), path],
      ]);
      const [stream] = await probeStreams(path, ['-show_data']);
      // ffprobe prints a hexdump: "00000000: 1188 56e5 00   ..V.."; ffmpeg appends an SBR-absent extension.
      const hex = (stream?.extradata ?? '')
        .replace(/^\s*0+:\s*/, '')
        .split('  ')[0]
        ?.replace(/\s/g, '');
      expect(hex?.startsWith(audioSpecificConfig(2, sampleRate, channels))).toBe(true);
    }
    // A rate outside the table is written out in 24 bits after index 15.
    expect(audioSpecificConfig(2, 50000, 1)).toBe('178061a808');
  });
});
