import { describe, expect, it } from 'vitest';
import { rtspIngestAudioArgs } from '../../src/media/rtsp-ingest.js';

// The second session's output by the vendor's audio codec (ffprobe's name; undefined: no answer).
describe('the sound of an rtsp source, by its codec', () => {
  const input = { url: 'rtsp://127.0.0.1:8554/live' };
  const output = (codec: string | undefined) => {
    const { args, format } = rtspIngestAudioArgs({ transport: 'tcp', timeoutSeconds: 5 }, input, codec);
    return { tail: args.slice(args.indexOf('-map')).join(' '), format };
  };

  it.each([
    ['aac', '-map 0:a:0 -c:a copy -f adts pipe:1', 'adts'],
    [undefined, '-map 0:a:0 -c:a copy -f adts pipe:1', 'adts'],
    ['pcm_mulaw', '-map 0:a:0 -c:a copy -f mulaw pipe:1', 'mulaw'],
    ['pcm_alaw', '-map 0:a:0 -c:a copy -f alaw pipe:1', 'alaw'],
    ['opus', '-map 0:a:0 -c:a pcm_mulaw -ar 8000 -ac 1 -f mulaw pipe:1', 'mulaw'],
  ])('%s -> %s', (codec, tail, format) => {
    expect(output(codec)).toEqual({ tail, format });
  });
});
