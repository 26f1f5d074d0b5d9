import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/homeassistant/commands.js';
import { haTopics } from '../../src/homeassistant/discovery.js';

const t = haTopics('P0123ABCD');

describe('Home Assistant command payloads', () => {
  it.each([
    [t.privacySet, 'ON', { kind: 'settings', patch: { privacyMode: true } }],
    [t.privacySet, 'OFF', { kind: 'settings', patch: { privacyMode: false } }],
    [t.picturesSet, 'ON', { kind: 'settings', patch: { alarmNotifications: true } }],
    [t.picturesSet, 'OFF', { kind: 'settings', patch: { alarmNotifications: false } }],
    [t.nightModeSet, 'auto', { kind: 'settings', patch: { nightMode: 'auto' } }],
    [t.nightModeSet, 'on', { kind: 'settings', patch: { nightMode: 'on' } }],
    [t.nightModeSet, 'off', { kind: 'settings', patch: { nightMode: 'off' } }],
    [t.reboot, 'PRESS', { kind: 'reboot' }],
  ])('%s %s is a command', (topic, payload, expected) => {
    expect(parseCommand(t, topic, Buffer.from(payload))).toEqual(expected);
  });

  it.each([
    [t.privacySet, 'on'],
    [t.privacySet, 'true'],
    [t.privacySet, ''],
    [t.picturesSet, 'ON '],
    [t.nightModeSet, 'ON'],
    [t.nightModeSet, 'night'],
    [t.reboot, ''],
    [t.reboot, 'press'],
    [t.privacyState, 'ON'],
    [t.privacySet, 'O'.repeat(33)],
    [t.privacySet, '\u0000\xff'],
  ])('%s %j is refused', (topic, payload) => {
    expect(parseCommand(t, topic, Buffer.from(payload, 'latin1')).kind).toBe('invalid');
  });
});
