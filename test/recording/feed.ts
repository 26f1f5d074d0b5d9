import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { audioSpecificConfig, parseAdts } from '../../src/media/aac.js';
import { NalType, nalType, splitAnnexB } from '../../src/media/h264.js';
import { StreamHub } from '../../src/media/hub.js';
import { StreamType } from '../../src/media/mpegts.js';
import type { AudioFrame, VideoAccessUnit } from '../../src/media/types.js';
import { StreamRecorder } from '../../src/recording/recorder.js';
import { type SegmentEntry, SegmentWriter } from '../../src/recording/segment-writer.js';
import { Segmenter } from '../../src/recording/segmenter.js';
import { demux, ffmpeg, makeTs } from '../helpers/media-fixtures.js';

/** A real encoded stream as the capture hands it to the hubs: access units and AAC frames in order. */
export async function encodedStream(
  dir: string,
  seconds: number,
  wallStart = Date.UTC(2026, 11, 6, 0, 59, 30),
): Promise<{ hub: StreamHub; items: (VideoAccessUnit | AudioFrame)[] }> {
  const ts = await makeTs(join(dir, 'source.ts'), { seconds });
  const hub = new StreamHub('main');
  const items: (VideoAccessUnit | AudioFrame)[] = [];
  let first: number | undefined;
  for (const pes of demux(ts)) {
    if (pes.pts === undefined) continue;
    first ??= pes.pts;
    const at = wallStart + Math.round((pes.pts - first) / 90);
    if (pes.streamType === StreamType.H264) {
      const nalus = splitAnnexB(pes.data).filter((n) => nalType(n) !== NalType.AUD);
      items.push({
        kind: 'video',
        codec: 'h264',
        nalus,
        keyframe: nalus.some((n) => nalType(n) === NalType.IDR),
        pts: pes.pts,
        at,
      });
    } else if (pes.streamType === StreamType.AAC_ADTS) {
      const adts = parseAdts(pes.data);
      hub.setAudioTrack({
        codec: 'aac',
        sampleRate: adts.sampleRate,
        channels: adts.channels,
        config: audioSpecificConfig(adts.objectType, adts.sampleRate, adts.channels),
      });
      const base = Math.round((pes.pts * adts.sampleRate) / 90000);
      adts.frames.forEach((f, i) => {
        items.push({ kind: 'audio', codec: 'aac', data: f.data, pts: base + i * 1024, at });
      });
    }
  }
  items.sort((a, b) => a.at - b.at);
  return { hub, items };
}

export function play(hub: StreamHub, items: (VideoAccessUnit | AudioFrame)[]): void {
  for (const item of items) {
    if (item.kind === 'video') hub.pushVideo(item);
    else hub.pushAudio(item);
  }
}

/** Writes a stream through the segmenter and the writer; returns the closed segments in order. */
export async function record(dir: string, seconds: number, segmentMs: number) {
  const { hub, items } = await encodedStream(dir, seconds);
  return recordItems(dir, hub, items, segmentMs);
}

/** A writer onto `<dir>/card/DEV` that never waits for the disk and keeps the closed segments. */
export function cardWriter(dir: string): { closed: SegmentEntry[]; writer: SegmentWriter } {
  const closed: SegmentEntry[] = [];
  const writer = new SegmentWriter({
    deviceDir: join(dir, 'card', 'DEV'),
    syncIntervalMs: 0,
    mayWrite: async () => true,
    keptOnCard: async () => true,
    onClosed: (e) => closed.push(e),
    onError: (err) => {
      throw err;
    },
  });
  return { closed, writer };
}

/** Writes given access units and audio frames through the segmenter and the writer. */
export async function recordItems(
  dir: string,
  hub: StreamHub,
  items: (VideoAccessUnit | AudioFrame)[],
  segmentMs: number,
) {
  const { closed, writer } = cardWriter(dir);
  const segmenter = new Segmenter({
    stream: 'main',
    kind: 'continuous',
    segmentMs,
    fragmentMs: 1000,
    tracks: () => ({ video: hub.video, audio: hub.audio }),
    output: (out) => writer.handle(out),
  });
  hub.on('video', (au) => segmenter.pushVideo(au));
  hub.on('audio', (f) => segmenter.pushAudio(f));
  for (const item of items) {
    if (item.kind === 'video') hub.pushVideo(item);
    else hub.pushAudio(item);
  }
  segmenter.close();
  await writer.idle();
  const videoFrames = items.filter((i) => i.kind === 'video').length;
  return { closed, videoFrames };
}

/** 20 ms of 8 kHz G.711: the frames an encoded source's sound goes out in (`pcmu` on the main hub). */
const G711_FRAME = 160;

/**
 * A source whose sound is G.711 (the SoC vendor's streamer, PCM from the codec chip): the hub has no
 * audio track, the sound goes out as µ-law frames. Recorded by the StreamRecorder as the service runs
 * it (continuous).
 */
export async function recordWithG711(dir: string, seconds: number, segmentMs: number) {
  const { items } = await encodedStream(dir, seconds);
  const video = items.filter((i): i is VideoAccessUnit => i.kind === 'video');
  const first = video[0] as VideoAccessUnit;
  const mulaw = join(dir, 'sound.ul');
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000', '-t', String(seconds)],
    ...['-ac', '1', '-ar', '8000', '-f', 'mulaw', mulaw],
  ]);
  const sound = await readFile(mulaw);
  // On the video's clock (the capture's timestamps share one origin), 20 ms a frame; the sound has
  // been flowing for a moment when the recording sees its first keyframe, as on a running camera.
  const lead = 10;
  const base = Math.round((first.pts * 8000) / 90000) - lead * G711_FRAME;
  const frames: AudioFrame[] = [];
  for (let at = 0; at + G711_FRAME <= sound.length; at += G711_FRAME) {
    const n = at / G711_FRAME;
    const data = sound.subarray(at, at + G711_FRAME);
    frames.push({ kind: 'audio', codec: 'pcmu', data, pts: base + at, at: first.at + (n - lead) * 20 });
  }
  const hub = new StreamHub('main');
  const { closed, writer } = cardWriter(dir);
  const recorder = new StreamRecorder({
    hub,
    mode: 'continuous',
    writer,
    segmentMs,
    fragmentMs: 1000,
    preRollMs: 0,
    postRollMs: 0,
    preRollMaxBytes: 1 << 20,
  });
  recorder.attach();
  const timeline = [...video, ...frames].sort((a, b) => a.at - b.at || (a.kind === 'video' ? -1 : 1));
  for (const item of timeline) {
    if (item.kind === 'video') hub.pushVideo(item);
    else hub.pushPcmu(item, true);
  }
  recorder.detach();
  await writer.idle();
  return { closed, soundFrames: frames.length };
}
