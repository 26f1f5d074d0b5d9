import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { closedSegments, type RecordingDevice, startRecordingDevice } from './rig.js';

const CAP = 256 * 1024;

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('retention under a small cap', () => {
  const fixture = useBroker();
  let card: TempDir;
  let cam: RecordingDevice;

  beforeAll(async () => {
    card = await tempDir();
    cam = await startRecordingDevice(fixture.broker.url, {
      recording: { root: card.path, requireMount: false },
      settings: { recording: { mode: 'continuous', retention: { maxBytes: CAP, keepEventsLonger: true } } },
    });
  });
  afterAll(async () => {
    await cam?.daemon.kill();
    await card?.remove();
  });

  it('removes the oldest continuous segments first and keeps the event segments', async () => {
    const { observer } = fixture;
    // The test picture's square crosses in the first seconds: the first recordings hold an alarm.
    await observer.waitFor(
      (m) => m.topic === `cam/v1/${cam.device.serial}/evt/motion` && m.json().phase === 'end',
      'alarm end',
      45000,
    );
    // Every crossing of the square is an event of its own (issue 14): motion off from here on, so the
    // later segments are continuous ones and the cap has to choose among them.
    const topic = `cam/v1/${cam.device.serial}`;
    const reported = observer.next(
      (m) => m.topic === `${topic}/state/reported` && m.json().version === 1,
      'motion off applied',
    );
    await observer.client.publishAsync(
      `${topic}/state/desired`,
      JSON.stringify({ version: 1, state: { motion: { enabled: false } } }),
      { qos: 1 },
    );
    await reported;
    const before = closedSegments(cam.daemon).length;
    // Recorded well past the cap after the alarm.
    const all = await cam.segments(before + 10, 120_000);
    const eventSegments = all.filter((s) => s.kind === 'event');
    expect(eventSegments.length).toBeGreaterThan(0);
    const continuous = all.filter((s) => s.kind === 'continuous');
    expect(continuous.reduce((sum, s) => sum + s.bytes, 0)).toBeGreaterThan(CAP);
    const answer = await observer.request(`cam/v1/${cam.device.serial}/cmd/recordings`, {
      from: new Date(0).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
    });
    const spans = (answer.result as { spans: { start: string; end: string; bytes: number; kind: string }[] })
      .spans;
    const kept = spans.reduce((sum, s) => sum + s.bytes, 0);
    // Within the cap, give or take the segment closed since retention last ran.
    const largest = Math.max(...all.map((s) => s.bytes));
    expect(kept).toBeLessThanOrEqual(CAP + largest);
    // Every event segment is still there; the continuous ones kept are the newest ones.
    for (const s of eventSegments) expect(await exists(join(cam.deviceDir, s.path))).toBe(true);
    const present = await Promise.all(continuous.map((s) => exists(join(cam.deviceDir, s.path))));
    const firstKept = present.indexOf(true);
    expect(firstKept).toBeGreaterThan(0);
    expect(present.slice(firstKept).every(Boolean)).toBe(true);
    expect(present.slice(0, firstKept).some(Boolean)).toBe(false);
  }, 180_000);
});
