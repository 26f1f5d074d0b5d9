// Recording: (1) the `recordings` answer with 30 days of one-minute segments in the index (issue 12
// asks for the time from cmd/recordings to the answer): loading the index from its log, and the
// answer for one day and for all 30; (2) what fsync per fragment costs: one minute of a 2 Mbit/s
// stream written as 1 s fragments (256 KB) with a datasync after each, and with none.
// Run: node --import tsx bench/recording.ts [dir] (figures printed, nothing asserted). The dir is
// where the files go (default: the temp dir); give the card's mount point to measure a card.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRecordings } from '../src/recording/commands.js';
import { RecordingIndex } from '../src/recording/index-log.js';
import { closedName, hourDir } from '../src/recording/naming.js';
import type { SegmentEntry } from '../src/recording/segment-writer.js';

const DAYS = 30;
const base = process.argv[2] ?? tmpdir();
const dir = await mkdtemp(join(base, 'bench-recording-'));
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

try {
  const start = Date.UTC(2026, 10, 1);
  const segments: SegmentEntry[] = [];
  for (let i = 0; i < DAYS * 1440; i++) {
    const s = start + i * 60_000;
    const e = s + 60_000;
    const path = join(hourDir('', s), closedName(s, e));
    segments.push({
      path,
      start: s,
      end: e,
      stream: 'main',
      kind: i % 10 === 0 ? 'event' : 'continuous',
      codec: 'avc1.42c028',
      bytes: 15_000_000,
      events: i % 10 === 0 ? [`alarm-${i}`] : [],
    });
  }
  const events = segments
    .filter((s) => s.events.length > 0)
    .map((s) => ({ id: s.events[0] as string, start: s.start, end: s.start + 20_000 }));
  let t0 = process.hrtime.bigint();
  await new RecordingIndex(dir).replace(segments, events);
  console.log(
    `index written (${segments.length} segments, ${events.length} events): ${ms(t0).toFixed(0)} ms`,
  );
  const index = new RecordingIndex(dir);
  t0 = process.hrtime.bigint();
  await index.load();
  console.log(`index loaded from its log: ${ms(t0).toFixed(0)} ms`);
  for (const [label, from] of [
    ['last day', start + (DAYS - 1) * 86_400_000],
    ['all 30 days', start],
  ] as const) {
    const runs = 20;
    t0 = process.hrtime.bigint();
    let size = 0;
    for (let i = 0; i < runs; i++)
      size = JSON.stringify(listRecordings(index, from, start + DAYS * 86_400_000)).length;
    console.log(
      `recordings answer, ${label}: ${(ms(t0) / runs).toFixed(1)} ms per answer (${size} bytes of JSON)`,
    );
  }

  const fragment = Buffer.alloc(256 * 1024, 7);
  for (const sync of [true, false]) {
    const handle = await open(join(dir, `minute-${sync}.mp4`), 'w');
    t0 = process.hrtime.bigint();
    for (let i = 0; i < 60; i++) {
      await handle.write(fragment);
      if (sync) await handle.datasync();
    }
    await handle.sync();
    await handle.close();
    console.log(
      `one minute at 2 Mbit/s in 1 s fragments, ${sync ? 'datasync per fragment' : 'one fsync at close'}: ${ms(t0).toFixed(0)} ms`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
