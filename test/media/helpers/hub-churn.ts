// A hub fed a 2 Mbit/s-like main stream at full speed while it keeps a 5 s pre-roll, as the daemon's
// is with alarm pictures on. Prints the peak of process.memoryUsage().arrayBuffers as JSON. Run with
// the unit's `--max-semi-space-size=1` so young collections come as often as in the daemon.
import { StreamHub } from '../../../src/media/hub.js';
import { PPS_1080P as pps, SPS_1080P as sps } from '../../helpers/numbered-frames.js';

const seconds = Number(process.argv[2] ?? 400);
const hub = new StreamHub('main');
hub.keepVideo(5);
const fps = 25;
let peak = 0;
let passed = 0;
for (let frame = 0; frame < seconds * fps; frame++) {
  const keyframe = frame % (2 * fps) === 0;
  // What a splitter hands over: every NAL unit its own copy, as big as a 2 Mbit/s frame.
  const slice = Buffer.alloc(keyframe ? 40_000 : 9_000, frame & 0xff);
  slice[0] = keyframe ? 0x65 : 0x41;
  const nalus = keyframe ? [Buffer.from(sps), Buffer.from(pps), slice] : [slice];
  hub.pushVideo({ kind: 'video', codec: 'h264', nalus, keyframe, pts: frame * 3600, at: frame * 40 });
  passed += slice.length;
  // The young garbage of a frame's handling elsewhere in the daemon (parsing, events, logs).
  const garbage: { j: number; s: string }[] = [];
  for (let j = 0; j < 300; j++) garbage.push({ j, s: `x${j}` });
  if (frame % 25 === 0) await new Promise((resolve) => setImmediate(resolve));
  peak = Math.max(peak, process.memoryUsage().arrayBuffers);
}
const recent = hub.recent(5).video;
console.log(JSON.stringify({ peak, passed, recentFrames: recent.length }));
