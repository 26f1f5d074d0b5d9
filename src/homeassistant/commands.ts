import { type HaTopics, NIGHT_MODES } from './discovery.js';

/** Commands are a word; anything longer is not one of ours. */
export const MAX_COMMAND_BYTES = 32;

export type HaCommand =
  | { kind: 'settings'; patch: Record<string, unknown> }
  | { kind: 'reboot' }
  | { kind: 'invalid'; reason: string };

/**
 * What a message on one of our command topics asks for, validated: the switches take only `ON` and
 * `OFF`, the select only its options, the button only `PRESS`. Pure; the caller logs what is invalid.
 */
export function parseCommand(topics: HaTopics, topic: string, payload: Buffer): HaCommand {
  if (payload.length > MAX_COMMAND_BYTES) return { kind: 'invalid', reason: 'payload too long' };
  const word = payload.toString('utf8');
  switch (topic) {
    case topics.privacySet:
      return onOffCommand(word, (on) => ({ privacyMode: on }));
    case topics.picturesSet:
      return onOffCommand(word, (on) => ({ alarmNotifications: on }));
    case topics.nightModeSet:
      return (NIGHT_MODES as readonly string[]).includes(word)
        ? { kind: 'settings', patch: { nightMode: word } }
        : { kind: 'invalid', reason: `night mode must be one of ${NIGHT_MODES.join(', ')}` };
    case topics.reboot:
      return word === 'PRESS'
        ? { kind: 'reboot' }
        : { kind: 'invalid', reason: 'the button takes PRESS only' };
    default:
      return { kind: 'invalid', reason: 'not a command topic' };
  }
}

function onOffCommand(word: string, patch: (on: boolean) => Record<string, unknown>): HaCommand {
  if (word === 'ON') return { kind: 'settings', patch: patch(true) };
  if (word === 'OFF') return { kind: 'settings', patch: patch(false) };
  return { kind: 'invalid', reason: 'a switch takes ON or OFF only' };
}
