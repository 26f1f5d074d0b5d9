import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audioSpecificConfig, parseAdts } from '../../src/media/aac.js';
import { StreamType } from '../../src/media/mpegts.js';
import { MAX_AAC_AU_SIZE, packetizeAac } from '../../src/rtp/aac-packetizer.js';
import { writeRtp } from '../../src/rtp/packet.js';
import { receiveWithFfmpeg } from '../helpers/ffmpeg-rtp.js';
import { demux, ffmpeg, framemd5, makeTs, type TempDir, tempDir } from '../helpers/media-fixtures.js';

describe('AAC RTP packetizer (RFC 3640 AAC-hbr)', () => {
  it('prefixes one AU with a 16-bit AU-headers-length and a 13+3-bit AU header', () => {
    const au = Buffer.alloc(371, 0x5a);
    const packet = packetizeAac(au);
    expect(packet.length).toBe(4 + 371);
    expect(packet.readUInt16BE(0)).toBe(16);
    expect(packet.readUInt16BE(2) >> 3).toBe(371);
    expect(packet.readUInt16BE(2) & 0x07).toBe(0); // AU-index 0
    expect(packet.subarray(4)).toEqual(au);
    expect(packetizeAac(Buffer.alloc(MAX_AAC_AU_SIZE)).readUInt16BE(2) >> 3).toBe(8191);
    expect(() => packetizeAac(Buffer.alloc(MAX_AAC_AU_SIZE + 1))).toThrow(RangeError);
  });

  describe('received by a real ffmpeg over UDP', () => {
    let dir: TempDir;
    let aus: Buffer[];
    let reference: { size: number; md5: string }[];

    beforeAll(async () => {
      dir = await tempDir();
      const tsPath = join(dir.path, 'out.ts');
      const pes = demux(await makeTs(tsPath));
      aus = pes
        .filter((p) => p.streamType === StreamType.AAC_ADTS)
        .flatMap((p) => parseAdts(p.data).frames.map((f) => f.data));
      reference = framemd5((await ffmpeg(['-i', tsPath, '-map', '0:a', '-f', 'framemd5', '-'])).stdout);
    });
    afterAll(async () => {
      await dir.remove();
    });

    it('decodes every AU to the same samples as ffmpeg decoding the MPEG-TS', async () => {
      expect(aus.length).toBe(reference.length);
      let seq = 65530;
      const round = (r: number): Buffer[] =>
        aus.map((au, i) => {
          const packet = writeRtp(
            {
              payloadType: 97,
              sequenceNumber: seq,
              timestamp: 1000 + (r * aus.length + i) * 1024,
              ssrc: 0xcafe,
              marker: true,
            },
            packetizeAac(au),
          );
          seq = (seq + 1) & 0xffff;
          return packet;
        });
      const config = audioSpecificConfig(2, 48000, 1);
      const result = await receiveWithFfmpeg({
        dir: dir.path,
        sdp: (port) =>
          [
            'v=0',
            'o=- 0 0 IN IP4 127.0.0.1',
            's=ipcam-agent test',
            'c=IN IP4 127.0.0.1',
            't=0 0',
            `m=audio ${port} RTP/AVP 97`,
            'a=rtpmap:97 MPEG4-GENERIC/48000/1',
            `a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=${config}`,
            '',
          ].join('\r\n'),
        output: ['-map', '0:a', '-frames:a', String(reference.length), '-f', 'framemd5'],
        round,
        maxRounds: 3,
      });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(framemd5(result.stdout)).toEqual(reference);
      expect(reference[0]?.size).toBe(1024 * 2); // mono s16
    });
  });
});
