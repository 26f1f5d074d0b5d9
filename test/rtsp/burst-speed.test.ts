import { describe, expect, it } from 'vitest';
import { UDP_BURST_SPEED, udpBurstSpeed } from '../../src/rtsp/session.js';

/** Bytes of `seconds` of a stream at `mbps`. */
const bytesOf = (mbps: number, seconds: number) => (mbps * 1e6 * seconds) / 8;

describe('the speed of a UDP join burst', () => {
  it.each([
    // A slow stream goes faster than real time by more, up to 8 times...
    { mbps: 0.4, speed: 8 },
    { mbps: 2, speed: 8 },
    // ...in between, as fast as 16 Mbit/s allows...
    { mbps: 3.2, speed: 5 },
    // ...and a fast one at 4 times, whatever its rate.
    { mbps: 4, speed: 4 },
    { mbps: 11, speed: 4 },
    { mbps: 40, speed: 4 },
  ])('$mbps Mbit/s plays at $speed times real time', ({ mbps, speed }) => {
    expect(udpBurstSpeed(bytesOf(mbps, 2.4), 2400)).toBeCloseTo(speed, 6);
  });

  it('a burst of one frame, or of nothing, plays at the base speed', () => {
    expect(udpBurstSpeed(200_000, 0)).toBe(UDP_BURST_SPEED);
    expect(udpBurstSpeed(0, 2000)).toBe(UDP_BURST_SPEED);
    expect(udpBurstSpeed(Number.NaN, 2000)).toBe(UDP_BURST_SPEED);
  });
});
