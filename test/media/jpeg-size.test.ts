import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jpegSize } from '../../src/media/jpeg-size.js';
import { ffmpeg } from '../helpers/media-fixtures.js';

describe('jpegSize', () => {
  it.each([
    [320, 180],
    [1920, 1080],
    [17, 9],
  ])('reads %ix%i from a JPEG ffmpeg made', async (width, height) => {
    const { stdout } = await ffmpeg([
      ...[
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        `testsrc=size=${width}x${height}:rate=1`,
      ],
      ...['-frames:v', '1', '-f', 'mjpeg', 'pipe:1'],
    ]);
    expect(jpegSize(stdout)).toEqual({ width, height });
  });

  it('gives undefined, never an exception, for anything else (seeded)', () => {
    const samples = [Buffer.alloc(0), Buffer.from([0xff, 0xd8]), Buffer.from('not a jpeg')];
    for (const s of samples) expect(jpegSize(s)).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const buf = Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.from(bytes)]);
        const size = jpegSize(buf);
        expect(size === undefined || (size.width > 0 && size.height > 0)).toBe(true);
      }),
      { seed: 14, numRuns: 2000 },
    );
  });
});
