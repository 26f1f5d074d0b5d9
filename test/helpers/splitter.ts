// The access-unit splitter fed the way a pipe feeds it, and the reference it is held against: what the
// encoder wrote, cut at its own AUDs. Shared by the H.264 and H.265 splitter tests.
import { AccessUnitSplitter, type SplitAccessUnit, type SplitterDrop } from '../../src/media/au-splitter.js';
import { NalType, nalType, splitAnnexB } from '../../src/media/h264.js';
import { HevcNal, hevcNalType } from '../../src/media/h265.js';
import type { VideoCodec } from '../../src/media/types.js';

export const START = Buffer.from([0, 0, 0, 1]);

function isAud(codec: VideoCodec, nalu: Buffer): boolean {
  return codec === 'h265' ? hevcNalType(nalu) === HevcNal.AUD : nalType(nalu) === NalType.AUD;
}

/** Access units as the encoder wrote them: split at its AUDs, AUDs removed (the reference). */
export function referenceAus(stream: Buffer, codec: VideoCodec = 'h264'): string[][] {
  const aus: string[][] = [];
  for (const nalu of splitAnnexB(stream)) {
    if (isAud(codec, nalu)) aus.push([]);
    else aus.at(-1)?.push(nalu.toString('hex'));
  }
  return aus.filter((au) => au.length > 0);
}

/** The same stream without its AUDs: the splitter must then find access units by slice parsing. */
export function withoutAuds(stream: Buffer, codec: VideoCodec = 'h264'): Buffer {
  return Buffer.concat(
    splitAnnexB(stream)
      .filter((n) => !isAud(codec, n))
      .flatMap((n) => [START, n]),
  );
}

/** Feeds `stream` in chunks of the given sizes (cycled) and returns what came out. */
export function split(
  stream: Buffer,
  chunkSizes: number[] = [65536],
  limits = {},
  codec: VideoCodec = 'h264',
): { aus: SplitAccessUnit[]; drops: SplitterDrop[]; maxBuffered: number } {
  const aus: SplitAccessUnit[] = [];
  const drops: SplitterDrop[] = [];
  const splitter = new AccessUnitSplitter(
    (au) => aus.push(au),
    (d) => drops.push(d),
    limits,
    codec,
  );
  let maxBuffered = 0;
  let pos = 0;
  for (let i = 0; pos < stream.length; i += 1) {
    const size = Math.max(1, chunkSizes[i % chunkSizes.length] ?? 1);
    splitter.push(stream.subarray(pos, pos + size));
    maxBuffered = Math.max(maxBuffered, splitter.bufferedBytes);
    pos += size;
  }
  splitter.end();
  return { aus, drops, maxBuffered };
}

export const hex = (aus: SplitAccessUnit[]) => aus.map((au) => au.nalus.map((n) => n.toString('hex')));
