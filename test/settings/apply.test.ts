import { describe, expect, it } from 'vitest';
import { defaultSettings, mergeDesired } from '../../src/settings/apply.js';

describe('defaultSettings', () => {
  it('fills every setting with its default', () => {
    const settings = defaultSettings();
    expect(settings.privacyMode).toBe(false);
    expect(settings.motion).toEqual({ enabled: true, sensitivity: 50, zones: [], cooldownSeconds: 30 });
    expect(settings.stream.main).toEqual({ width: 1920, height: 1080, fps: 25, bitrateKbps: 2048 });
    expect(settings.nightMode).toBe('auto');
  });
});

describe('mergeDesired', () => {
  it('merges nested objects: a document naming motion.sensitivity keeps motion.enabled', () => {
    const current = { ...defaultSettings(), motion: { ...defaultSettings().motion, enabled: false } };
    const result = mergeDesired(current, { motion: { sensitivity: 80 } });

    expect(result.rejected).toEqual([]);
    expect(result.applied).toEqual(['motion']);
    expect(result.settings.motion).toEqual({
      enabled: false,
      sensitivity: 80,
      zones: [],
      cooldownSeconds: 30,
    });
    // Pure: the current settings are untouched.
    expect(current.motion.sensitivity).toBe(50);
  });

  it('merges two levels deep: stream.main.fps keeps the other stream values', () => {
    const result = mergeDesired(defaultSettings(), { stream: { main: { fps: 15 } } });
    expect(result.applied).toEqual(['stream']);
    expect(result.settings.stream).toEqual({
      main: { width: 1920, height: 1080, fps: 15, bitrateKbps: 2048 },
      sub: { width: 640, height: 360, fps: 15, bitrateKbps: 512 },
    });
  });

  it('takes a minimum object size per zone, and rejects one out of range naming where it is', () => {
    const triangle: [number, number][] = [
      [0, 0],
      [1, 0],
      [1, 1],
    ];
    const ok = mergeDesired(defaultSettings(), {
      motion: { zones: [{ name: 'path', points: triangle, minObjectArea: 0.002 }] },
    });
    expect(ok.rejected).toEqual([]);
    expect(ok.settings.motion.zones[0]?.minObjectArea).toBe(0.002);
    const bad = mergeDesired(defaultSettings(), {
      motion: { zones: [{ name: 'path', points: triangle, minObjectArea: 2 }] },
    });
    expect(bad.applied).toEqual([]);
    expect(bad.rejected).toEqual([
      { key: 'motion.zones.0.minObjectArea', code: 'invalid_value', message: expect.stringMatching(/0\.5/) },
    ]);
  });

  it('replaces arrays instead of merging them, filling defaults in new items', () => {
    const triangle: [number, number][] = [
      [0, 0],
      [1, 0],
      [1, 1],
    ];
    const first = mergeDesired(defaultSettings(), {
      motion: {
        zones: [
          { name: 'door', points: triangle },
          { name: 'tree', kind: 'exclude', points: triangle },
        ],
      },
    });
    const second = mergeDesired(first.settings, { motion: { zones: [{ name: 'gate', points: triangle }] } });
    expect(second.settings.motion.zones).toEqual([{ name: 'gate', kind: 'include', points: triangle }]);
  });

  it('rejects an unknown top-level key with unknown_key and applies the others', () => {
    const result = mergeDesired(defaultSettings(), { volume: 7, privacyMode: true });
    expect(result.rejected).toEqual([{ key: 'volume', code: 'unknown_key', message: expect.any(String) }]);
    expect(result.applied).toEqual(['privacyMode']);
    expect(result.settings.privacyMode).toBe(true);
    expect(result.settings).not.toHaveProperty('volume');
  });

  it('rejects a bad nested value by its dotted key while applying the other keys of the document', () => {
    const current = defaultSettings();
    const result = mergeDesired(current, {
      motion: { sensitivity: 0, enabled: false },
      nightMode: 'on',
      name: 'Porch',
    });

    expect(result.rejected).toEqual([
      { key: 'motion.sensitivity', code: 'invalid_value', message: expect.any(String) },
    ]);
    expect(result.applied).toEqual(['nightMode', 'name']);
    // The rejected key is rejected whole: its valid sibling (enabled) is not applied either.
    expect(result.settings.motion).toEqual(current.motion);
    expect(result.settings.nightMode).toBe('on');
    expect(result.settings.name).toBe('Porch');
  });

  it('rejects values of the wrong type and out-of-range enumerations', () => {
    const result = mergeDesired(defaultSettings(), {
      privacyMode: 'yes',
      nightMode: 'dusk',
      uploadUrl: 'http://insecure.example/upload',
      alarmNotifications: false,
    });
    expect(result.rejected.map((r) => [r.key, r.code])).toEqual([
      ['privacyMode', 'invalid_value'],
      ['nightMode', 'invalid_value'],
      ['uploadUrl', 'invalid_value'],
    ]);
    expect(result.applied).toEqual(['alarmNotifications']);
    expect(result.settings.privacyMode).toBe(false);
    expect(result.settings.nightMode).toBe('auto');
    expect(result.settings).not.toHaveProperty('uploadUrl');
  });

  it('rejects an unknown nested key with unknown_key and its dotted path', () => {
    const current = defaultSettings();
    const result = mergeDesired(current, { motion: { sensitivty: 10 }, stream: { main: { gop: 50 } } });
    expect(result.rejected).toEqual([
      { key: 'motion.sensitivty', code: 'unknown_key', message: expect.any(String) },
      { key: 'stream.main.gop', code: 'unknown_key', message: expect.any(String) },
    ]);
    expect(result.applied).toEqual([]);
    expect(result.settings).toEqual(current);
  });

  it('accepts an empty document as a no-op', () => {
    const current = defaultSettings();
    expect(mergeDesired(current, {})).toEqual({ settings: current, applied: [], rejected: [] });
  });
});
