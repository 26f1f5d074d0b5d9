import { describe, expect, it } from 'vitest';
import { isSafeTopicLevel, levelsAfterRoot, topicsFor } from '../../src/cloud/topics.js';

describe('topicsFor', () => {
  it('builds the contract topics under cam/v1/{deviceId}', () => {
    const topics = topicsFor('CAM0001');
    expect(topics.root).toBe('cam/v1/CAM0001');
    expect(topics.status).toBe('cam/v1/CAM0001/status');
    expect(topics.reported).toBe('cam/v1/CAM0001/state/reported');
    expect(topics.desired).toBe('cam/v1/CAM0001/state/desired');
    expect(topics.commandFilter).toBe('cam/v1/CAM0001/cmd/+');
    expect(topics.command('reboot')).toBe('cam/v1/CAM0001/cmd/reboot');
    expect(topics.event('motion')).toBe('cam/v1/CAM0001/evt/motion');
    expect(topics.jobUpdate('job-7')).toBe('cam/v1/CAM0001/jobs/job-7/update');
    expect(topics.webrtc('s1', 'offer')).toBe('cam/v1/CAM0001/webrtc/s1/offer');
  });

  it.each(['a/b', 'cam+1', 'cam#', '#', '+', '', 'x'.repeat(129), 'nul\u0000byte'])(
    'rejects the device id %j',
    (id) => {
      expect(() => topicsFor(id)).toThrow(/device id not usable in a topic/);
    },
  );

  it('accepts an id of exactly 128 characters', () => {
    expect(topicsFor('x'.repeat(128)).root).toBe(`cam/v1/${'x'.repeat(128)}`);
  });

  it('rejects wildcards and separators in the variable levels too', () => {
    const topics = topicsFor('CAM0001');
    expect(() => topics.command('a/b')).toThrow(/not a topic level/);
    expect(() => topics.event('#')).toThrow(/not a topic level/);
    expect(() => topics.jobUpdate('+')).toThrow(/not a topic level/);
    expect(() => topics.webrtc('s/1', 'answer')).toThrow(/not a topic level/);
  });

  it('isSafeTopicLevel accepts ordinary levels only', () => {
    expect(isSafeTopicLevel('CAM-0001_a.b')).toBe(true);
    expect(isSafeTopicLevel('a/b')).toBe(false);
    expect(isSafeTopicLevel('a+')).toBe(false);
    expect(isSafeTopicLevel('a#')).toBe(false);
  });
});

describe('levelsAfterRoot', () => {
  it('splits topics under this device’s root and ignores others', () => {
    const topics = topicsFor('CAM0001');
    expect(levelsAfterRoot(topics, 'cam/v1/CAM0001/cmd/reboot')).toEqual(['cmd', 'reboot']);
    expect(levelsAfterRoot(topics, 'cam/v1/CAM00012/cmd/reboot')).toBeUndefined();
    expect(levelsAfterRoot(topics, 'cam/v1/CAM0001')).toBeUndefined();
  });
});
