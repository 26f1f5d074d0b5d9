import { join } from 'node:path';
import { StreamHub } from '../../src/media/hub.js';
import { RecordingIndex } from '../../src/recording/index-log.js';
import { RecordingReader } from '../../src/recording/reader.js';
import type { SegmentEntry } from '../../src/recording/segment-writer.js';
import { RtspServer } from '../../src/rtsp/server.js';
import { captureLog } from '../core/fixtures.js';
import { run } from '../helpers/media-fixtures.js';
import { record } from './feed.js';

export interface RecordedFrame {
  /** Recorded wall-clock time, ms. */
  wallMs: number;
  keyframe: boolean;
  segment: number;
}

export interface Recorded {
  deviceDir: string;
  segments: SegmentEntry[];
  /** Every video frame of every segment, in order, as ffprobe reads the files. */
  frames: RecordedFrame[];
  index: RecordingIndex;
  reader: RecordingReader;
}

/** Segments written by the project's own segmenter and writer from a generated H.264 + AAC stream. */
export async function recordSegments(dir: string, seconds: number, segmentMs: number): Promise<Recorded> {
  const { closed } = await record(dir, seconds, segmentMs);
  const deviceDir = join(dir, 'card', 'DEV');
  const frames: RecordedFrame[] = [];
  for (const [i, s] of closed.entries()) {
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags'],
      ...['-of', 'json', join(deviceDir, s.path)],
    ]);
    const packets = (JSON.parse(stdout.toString()) as { packets: { pts_time: string; flags: string }[] })
      .packets;
    for (const p of packets)
      frames.push({
        wallMs: s.start + Number(p.pts_time) * 1000,
        keyframe: p.flags.startsWith('K'),
        segment: i,
      });
  }
  const index = new RecordingIndex(deviceDir);
  await index.load();
  await index.replace(closed, []);
  return { deviceDir, segments: closed, frames, index, reader: new RecordingReader(deviceDir, () => index) };
}

/**
 * The frames playback of [start, end) sends: from the keyframe at or before `start` (in its segment,
 * or the first keyframe after it in a gap) to the last frame before `end`, of the given segments.
 */
export function expectedFrames(frames: RecordedFrame[], start: number, end: number): RecordedFrame[] {
  let from = 0;
  for (const [i, f] of frames.entries()) {
    if (f.wallMs > start + 0.5) break;
    if (f.keyframe) from = i;
  }
  return frames.slice(from).filter((f) => f.wallMs < end);
}

export const CREDENTIALS = { username: 'admin', password: 'label-code-1' };

/** An RTSP server in this process, serving the recordings from `reader`. */
export async function playbackServer(reader: () => RecordingReader | undefined): Promise<{
  server: RtspServer;
  log: ReturnType<typeof captureLog>;
  url(pathAndQuery: string, credentials?: { username: string; password: string } | false): string;
}> {
  const log = captureLog();
  const server = new RtspServer({
    host: '127.0.0.1',
    port: 0,
    udpPort: 0,
    udp: true,
    hubs: { main: new StreamHub('main'), sub: new StreamHub('sub') },
    credentials: () => CREDENTIALS,
    allowBasic: false,
    nonceTtlMs: 60_000,
    sessionTimeoutMs: 60_000,
    maxSessions: 8,
    maxSessionsPerConnection: 2,
    maxConnections: 16,
    maxConnectionsPerIp: 16,
    idleTimeoutMs: 60_000,
    describeWaitMs: 100,
    slowClient: { skipAboveBytes: 4 << 20, dropAboveBytes: 16 << 20, dropAfterSkippingMs: 10_000 },
    playback: reader,
    log: log.log,
  });
  await server.start();
  return {
    server,
    log,
    url: (pathAndQuery, credentials = CREDENTIALS) => {
      const auth = credentials
        ? `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@`
        : '';
      return `rtsp://${auth}127.0.0.1:${server.port}${pathAndQuery}`;
    },
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
