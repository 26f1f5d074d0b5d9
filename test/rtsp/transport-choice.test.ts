import { describe, expect, it } from 'vitest';
import { parseTransport } from '../../src/rtsp/message.js';
import { acceptableTransport, freeChannels } from '../../src/rtsp/transport-choice.js';

const context = {
  peer: '192.168.1.20',
  udpEnabled: true,
  sessionTransport: undefined,
  channelsInUse: new Set<number>(),
};
const ok = (header: string, over: Partial<typeof context> | Record<string, unknown> = {}) => {
  const [spec] = parseTransport(header);
  return spec !== undefined && acceptableTransport(spec, { ...context, ...over });
};

describe('acceptableTransport', () => {
  it('takes what ffmpeg, VLC and GStreamer send', () => {
    expect(ok('RTP/AVP/TCP;unicast;interleaved=0-1')).toBe(true);
    expect(ok('RTP/AVP;unicast;client_port=5000-5001')).toBe(true);
    expect(ok('RTP/AVP/UDP;unicast;client_port=5000-5001;mode="PLAY"')).toBe(true);
    expect(ok('RTP/AVP/TCP;unicast')).toBe(true);
  });

  it('sends media nowhere but to the peer itself', () => {
    expect(ok('RTP/AVP;unicast;client_port=5000-5001;destination=192.168.1.20')).toBe(true);
    expect(ok('RTP/AVP;unicast;client_port=5000-5001;destination=192.168.1.99')).toBe(false);
    expect(ok('RTP/AVP;unicast;client_port=5000-5001;source=10.0.0.1')).toBe(false);
  });

  it('refuses multicast, other profiles, recording, UDP when off, and mixing transports in a session', () => {
    expect(ok('RTP/AVP;multicast;client_port=5000-5001')).toBe(false);
    expect(ok('RTP/SAVP;unicast;client_port=5000-5001')).toBe(false);
    expect(ok('RTP/AVPF;unicast;client_port=5000-5001')).toBe(false);
    expect(ok('RTP/AVP;unicast;client_port=5000-5001;mode=RECORD')).toBe(false);
    expect(ok('RTP/AVP;unicast;client_port=5000-5001', { udpEnabled: false })).toBe(false);
    expect(ok('RTP/AVP;unicast', {})).toBe(false);
    expect(ok('RTP/AVP;unicast;client_port=5000-5001', { sessionTransport: 'tcp' })).toBe(false);
  });

  it('refuses interleaved channels the connection already uses', () => {
    expect(ok('RTP/AVP/TCP;unicast;interleaved=2-3', { channelsInUse: new Set([0, 1, 2, 3]) })).toBe(false);
    expect(ok('RTP/AVP/TCP;unicast;interleaved=4-5', { channelsInUse: new Set([0, 1, 2, 3]) })).toBe(true);
  });
});

describe('freeChannels', () => {
  it('gives the first free even pair, and none when all are taken', () => {
    expect(freeChannels(new Set())).toEqual([0, 1]);
    expect(freeChannels(new Set([0, 1, 3]))).toEqual([4, 5]);
    expect(freeChannels({ has: () => true })).toBeUndefined();
  });
});
