import { describe, expect, it } from 'vitest';
import { channelOf, checkPassphrase } from '../../../src/provisioning/wifi/networks.js';
import { activationFailure, splitTerse } from '../../../src/provisioning/wifi/nmcli-parse.js';
import { cleanInteractiveLine, decodeWpaText, eventText } from '../../../src/provisioning/wifi/wpa-parse.js';

describe('Wi-Fi tool output parsing', () => {
  it('splits nmcli terse lines on unescaped colons only', () => {
    expect(splitTerse('no:My\\:Net\\\\x:AA\\:BB\\:CC:')).toEqual(['no', 'My:Net\\x', 'AA:BB:CC', '']);
  });

  it.each([
    [4, 'Error: Connection activation failed: (7) Secrets were required, but not provided.', 'auth_error'],
    [4, 'Error: Connection activation failed: Secrets were required, but not provided', 'auth_error'],
    [4, 'Error: Connection activation failed: (53) The Wi-Fi network could not be found.', 'ap_not_found'],
    [
      4,
      'Error: Connection activation failed: (5) IP configuration could not be reserved (no available address, timeout, etc.).',
      'dhcp_failed',
    ],
    [3, 'Error: Timeout expired (45 seconds)', 'timeout'],
    [4, 'Error: Connection activation failed: (36) The device was removed.', 'timeout'],
  ] as const)('maps nmcli exit %i "%s"', (code, line, failed) => {
    expect(
      activationFailure(code, `Warning: something first\n${line}\nHint: use 'journalctl -xe ...'\n`),
    ).toEqual({
      failed,
      detail: line,
    });
  });

  it('decodes wpa_supplicant printf-encoded text', () => {
    expect(decodeWpaText('Caf\\xc3\\xa9 \\"q\\" \\\\ \\t')).toBe('Café "q" \\ \t');
  });

  it('strips interactive wpa_cli prompts and redraws, and recognises events', () => {
    expect(cleanInteractiveLine('> \r<3>CTRL-EVENT-CONNECTED - Connection')).toBe(
      '<3>CTRL-EVENT-CONNECTED - Connection',
    );
    expect(cleanInteractiveLine('> > \r\x1b[K')).toBe('');
    expect(cleanInteractiveLine('> add_network')).toBe('add_network');
    expect(eventText('<3>CTRL-EVENT-NETWORK-NOT-FOUND')).toBe('CTRL-EVENT-NETWORK-NOT-FOUND');
    expect(eventText('OK')).toBeUndefined();
  });

  it('knows WPA passphrase rules and channel numbers', () => {
    expect(checkPassphrase('')).toEqual({ kind: 'open' });
    expect(checkPassphrase('a'.repeat(64).replace(/a/g, 'f'))).toEqual({ kind: 'raw-psk' });
    expect(checkPassphrase('x'.repeat(63))).toEqual({ kind: 'passphrase' });
    expect(checkPassphrase('x'.repeat(64)).kind).toBe('invalid');
    expect(checkPassphrase('ünïcode pw').kind).toBe('invalid');
    expect([2412, 2484, 5180, 5955, 900].map(channelOf)).toEqual([1, 14, 36, 1, 0]);
  });
});
