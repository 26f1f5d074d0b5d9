import { describe, expect, it } from 'vitest';
import { alawToMulaw } from '../../src/media/g711.js';
import { writeRtp } from '../../src/rtp/packet.js';
import { BackchannelReceiver, type DropReason, parseRequire } from '../../src/rtsp/backchannel.js';

const rtp = (payloadType: number, payload: Buffer) =>
  writeRtp({ payloadType, sequenceNumber: 1, timestamp: 0, ssrc: 7, marker: false }, payload);

function receiver(now: () => number = () => 0) {
  const played: Buffer[] = [];
  const dropped: DropReason[] = [];
  const r = new BackchannelReceiver({ play: (b) => played.push(b), onDrop: (d) => dropped.push(d), now });
  return { r, played, dropped };
}

describe('back channel: Require and RTP checks', () => {
  it.each([
    [undefined, false, []],
    ['www.onvif.org/ver20/backchannel', true, []],
    ['WWW.ONVIF.ORG/ver20/backchannel', true, []],
    ['www.onvif.org/ver20/backchannel, com.example.x', true, ['com.example.x']],
    ['implicit-play onvif-replay', false, ['implicit-play', 'onvif-replay']],
    ['<script>', false, ['invalid-option-tag']],
  ])('Require %j: back channel %s, unsupported %j', (value, backchannel, unsupported) => {
    expect(parseRequire(value)).toEqual({ backchannel, unsupported });
  });

  it('echoes at most 8 unknown options', () => {
    expect(parseRequire(Array.from({ length: 50 }, (_, i) => `x${i}`).join(',')).unsupported).toHaveLength(8);
  });

  it('plays PCMU as is and PCMA as µ-law', () => {
    const { r, played } = receiver();
    const audio = Buffer.from(Array.from({ length: 160 }, (_, i) => i));
    expect(r.receive(rtp(0, audio))).toBe(true);
    expect(r.receive(rtp(8, audio))).toBe(true);
    expect(played).toEqual([audio, alawToMulaw(audio)]);
    expect(r.received).toBe(320);
  });

  it('drops what is not G.711 RTP, each with its reason', () => {
    const { r, played, dropped } = receiver();
    const v1 = rtp(0, Buffer.alloc(160));
    v1[0] = 0x40;
    expect(r.receive(v1)).toBe(false);
    expect(r.receive(Buffer.from([0x80, 0]))).toBe(false);
    expect(r.receive(rtp(96, Buffer.alloc(160)))).toBe(false);
    expect(r.receive(rtp(0, Buffer.alloc(2000)))).toBe(false);
    expect(dropped).toEqual(['not_rtp', 'not_rtp', 'payload_type', 'too_large']);
    expect(played).toEqual([]);
  });

  it('plays at most 2 s ahead of real time', () => {
    let now = 0;
    const { r, dropped } = receiver(() => now);
    let played = 0;
    for (let i = 0; i < 200; i += 1) if (r.receive(rtp(0, Buffer.alloc(160)))) played += 1;
    expect(played).toBe(100); // 16 000 bytes: 2 s of G.711
    expect(dropped.every((d) => d === 'too_fast')).toBe(true);
    now = 1000; // a second later, a second more
    for (let i = 0; i < 100; i += 1) if (r.receive(rtp(0, Buffer.alloc(160)))) played += 1;
    expect(played).toBe(150);
  });
});
