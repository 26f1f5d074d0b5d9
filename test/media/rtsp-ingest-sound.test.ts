import { describe, expect, it } from 'vitest';
import {
  audioAnswer,
  type IngestAudioProbe,
  parseAudioProbe,
  rtspIngestAudioArgs,
} from '../../src/media/rtsp-ingest.js';

// The second session's output by the vendor's audio track as ffprobe describes it (undefined: a track
// it could not describe).
describe('the sound of an rtsp source, by its codec', () => {
  const input = { url: 'rtsp://127.0.0.1:8554/live' };
  const output = (probe: IngestAudioProbe | undefined) => {
    const { args, format } = rtspIngestAudioArgs({ transport: 'tcp', timeoutSeconds: 5 }, input, probe);
    return { tail: args.slice(args.indexOf('-map')).join(' '), format };
  };
  const copy = (as: string) => `-map 0:a:0 -c:a copy -f ${as} pipe:1`;
  const mulaw = '-map 0:a:0 -c:a pcm_mulaw -ar 8000 -ac 1 -f mulaw pipe:1';

  it.each([
    ['AAC', { codec: 'aac', sampleRate: 16000, channels: 1 }, copy('adts'), 'adts'],
    ['G.711 µ-law 8 kHz mono', { codec: 'pcm_mulaw', sampleRate: 8000, channels: 1 }, copy('mulaw'), 'mulaw'],
    ['G.711 A-law 8 kHz mono', { codec: 'pcm_alaw', sampleRate: 8000, channels: 1 }, copy('alaw'), 'alaw'],
    ['µ-law at 16 kHz', { codec: 'pcm_mulaw', sampleRate: 16000, channels: 1 }, mulaw, 'mulaw'],
    ['A-law stereo', { codec: 'pcm_alaw', sampleRate: 8000, channels: 2 }, mulaw, 'mulaw'],
    ['Opus', { codec: 'opus', sampleRate: 48000, channels: 2 }, mulaw, 'mulaw'],
    ['a track ffprobe could not describe', undefined, mulaw, 'mulaw'],
  ])('%s', (_what, probe, tail, format) => {
    expect(output(probe)).toEqual({ tail, format });
  });

  it('reads only a well-formed ffprobe answer', () => {
    const answer = (stream: unknown) => parseAudioProbe(JSON.stringify({ streams: [stream] }));
    expect(answer({ codec_name: 'pcm_mulaw', sample_rate: '8000', channels: 1 })).toEqual({
      codec: 'pcm_mulaw',
      sampleRate: 8000,
      channels: 1,
    });
    expect(answer({ codec_name: 'aac; rm -rf', sample_rate: '8000', channels: 1 })).toBeUndefined();
    expect(answer({ codec_name: 'aac', sample_rate: 'fast', channels: 1 })).toBeUndefined();
    expect(answer(null)).toBeUndefined();
    expect(parseAudioProbe('not json')).toBeUndefined();
    expect(parseAudioProbe('{"streams":[]}')).toBeUndefined();
  });

  it('tells a server without sound from one that gave no answer', () => {
    // What ffprobe 5.1 prints for a server whose SDP has no audio track.
    expect(audioAnswer('{\n    "programs": [\n\n    ],\n    "streams": [\n\n    ]\n}\n')).toBe('none');
    expect(audioAnswer('')).toEqual({ noAnswer: 'ffprobe wrote no JSON' });
    expect(
      audioAnswer('{"streams": [{"codec_name": "aac", "sample_rate": "16000", "channels": 1}]}'),
    ).toEqual({
      track: { codec: 'aac', sampleRate: 16000, channels: 1 },
    });
    expect(audioAnswer('{"streams": [{"codec_name": "??"}]}')).toEqual({ track: undefined });
  });
});
