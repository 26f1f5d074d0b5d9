import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { closedSegments, type RecordingDevice, startRecordingDevice, videoPackets } from './rig.js';

const PRE_ROLL = 3000;
const POST_ROLL = 2000;
/** Keyframes come every 2 s: a pre-roll starts at the keyframe at or before its horizon. */
const GOP = 2000;

describe('event recording: pre-roll to post-roll around a motion alarm', () => {
  const fixture = useBroker();
  let card: TempDir;
  let cam: RecordingDevice;

  beforeAll(async () => {
    card = await tempDir();
    cam = await startRecordingDevice(fixture.broker.url, {
      recording: { root: card.path, requireMount: false },
      settings: {
        recording: { mode: 'events', preRollSeconds: PRE_ROLL / 1000, postRollSeconds: POST_ROLL / 1000 },
        motion: { cooldownSeconds: 0 },
      },
    });
  });
  afterAll(async () => {
    await cam?.daemon.kill();
    await card?.remove();
  });

  it('records only around the alarm, as one span of playable segments, and lists the event', async () => {
    const { observer } = fixture;
    const topic = `cam/v1/${cam.device.serial}/evt/motion`;
    const began = await cam.daemon.waitForLog('recording', 20000);
    const recordingSince = (JSON.parse(began) as { time: number }).time;
    // The test picture's square crosses every 30 s: alarms come on their own. The first one may come
    // before a whole pre-roll was seen; the one after it has its pre-roll in memory.
    const start = await observer.waitFor(
      (m) =>
        m.topic === topic &&
        m.json().phase === 'start' &&
        m.json<{ ts: number }>().ts > recordingSince + PRE_ROLL + GOP,
      'an alarm start with a full pre-roll',
      75000,
    );
    const alarmId = start.json<{ alarmId: string }>().alarmId;
    await observer.waitFor(
      (m) => m.topic === topic && m.json().phase === 'end' && m.json().alarmId === alarmId,
      'alarm end',
      45000,
    );
    const answerFor = () =>
      observer.request(`cam/v1/${cam.device.serial}/cmd/recordings`, {
        from: new Date(Date.now() - 120_000).toISOString(),
        to: new Date(Date.now() + 60_000).toISOString(),
      });
    const first = (await answerFor()).result as { events: { eventId: string; start: string; end: string }[] };
    const event = first.events.find((e) => e.eventId === alarmId);
    expect(event).toBeDefined();
    const eventStart = Date.parse(event?.start ?? '');
    const eventEnd = Date.parse(event?.end ?? '');
    // The recording goes on for the post-roll, then its last segment closes.
    await cam.daemon.stdout.waitFor(
      (l) =>
        l.includes('"msg":"recording segment closed"') &&
        (JSON.parse(l) as { end: number }).end >= eventEnd + POST_ROLL - 250,
      'the event recording closed',
      30000,
    );
    const { spans } = (await answerFor()).result as {
      spans: { start: string; end: string; kind: string; segments: number }[];
    };
    // Alarms are apart by more than pre- and post-roll: each has a span of its own.
    const span = spans.find((s) => Date.parse(s.start) <= eventStart && Date.parse(s.end) >= eventEnd);
    if (!span) throw new Error(`no span covers the event: ${JSON.stringify(spans)}`);
    expect(spans.length).toBeLessThanOrEqual(2);
    expect(span.kind).toBe('event');
    expect(Date.parse(span.start)).toBeLessThanOrEqual(eventStart - PRE_ROLL);
    // Nothing from before the pre-roll (at most one GOP more) was kept.
    expect(Date.parse(span.start)).toBeGreaterThanOrEqual(eventStart - PRE_ROLL - GOP - 200);
    expect(Date.parse(span.end)).toBeGreaterThanOrEqual(eventEnd + POST_ROLL - 250);
    for (const seg of closedSegments(cam.daemon)) {
      expect(seg.kind).toBe('event');
      const packets = await videoPackets(join(cam.deviceDir, seg.path));
      expect(packets[0]?.flags.startsWith('K')).toBe(true);
    }
  }, 150_000);
});
