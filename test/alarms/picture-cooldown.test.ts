import { describe, expect, it } from 'vitest';
import { PictureCooldown } from '../../src/alarms/picture-cooldown.js';

describe('PictureCooldown', () => {
  // Each row: events as [start ms, end ms], the cooldown, and which of them are notified.
  const table: { name: string; events: [number, number][]; seconds: number; notified: boolean[] }[] = [
    {
      name: 'no cooldown: every event',
      events: [
        [0, 5000],
        [5100, 9000],
        [9000, 12_000],
      ],
      seconds: 0,
      notified: [true, true, true],
    },
    {
      name: 'counted from the end of the notified event',
      events: [
        [0, 5000],
        [8000, 12_000],
        [14_000, 16_000],
        [15_000, 20_000],
      ],
      seconds: 10,
      notified: [true, false, false, true],
    },
    {
      name: 'events inside the cooldown do not extend it',
      events: [
        [0, 1000],
        [2000, 10_000],
        [11_000, 12_000],
      ],
      seconds: 10,
      notified: [true, false, true],
    },
    {
      name: 'a long cooldown',
      events: [
        [0, 1000],
        [600_000, 601_000],
        [602_000, 603_000],
      ],
      seconds: 3600,
      notified: [true, false, false],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const cooldown = new PictureCooldown();
      const notified = row.events.map(([start, end]) => {
        const yes = cooldown.start(start);
        cooldown.end(end, row.seconds);
        return yes;
      });
      expect(notified).toEqual(row.notified);
    });
  }
});
