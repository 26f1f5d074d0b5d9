import type { ConnectResult } from './types.js';
import { parseKeyValueLines } from './wpa-parse.js';
import type { WpaCliSession } from './wpa-session.js';

export interface JoinTimeouts {
  connectTimeoutMs: number;
  dhcpTimeoutMs: number;
  notFoundScans: number;
  /** How often the address is looked for after association. */
  pollMs?: number;
}

/**
 * Turns wpa_supplicant's events for network `id` into a join result:
 * `CTRL-EVENT-SSID-TEMP-DISABLED ... reason=WRONG_KEY` (or the older "pre-shared key may be
 * incorrect" message) is a wrong passphrase, repeated `CTRL-EVENT-NETWORK-NOT-FOUND` a missing
 * network, and `CTRL-EVENT-CONNECTED` without an address in time a DHCP failure.
 * Listening starts at once, so call it before `select_network`.
 */
export function watchJoin(session: WpaCliSession, id: string, t: JoinTimeouts): Promise<ConnectResult> {
  return new Promise<ConnectResult>((resolve) => {
    let notFound = 0;
    let settled = false;
    let timer = setTimeout(
      () => finish({ failed: 'timeout', detail: 'no association in time' }),
      t.connectTimeoutMs,
    );
    const finish = (result: ConnectResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.off('event', onEvent);
      resolve(result);
    };
    const awaitAddress = async () => {
      clearTimeout(timer);
      const deadline = Date.now() + t.dhcpTimeoutMs;
      while (!settled && Date.now() < deadline) {
        const status = parseKeyValueLines(await session.request('status').catch(() => []));
        if (status.get('wpa_state') === 'COMPLETED' && status.get('ip_address')) return finish('connected');
        await new Promise((r) => {
          timer = setTimeout(r, t.pollMs ?? 250);
        });
      }
      finish({ failed: 'dhcp_failed', detail: 'associated, but no address was given' });
    };
    const onEvent = (text: string) => {
      if (text.startsWith('CTRL-EVENT-SSID-TEMP-DISABLED') && text.includes(`id=${id} `)) {
        if (/reason=WRONG_KEY/.test(text)) finish({ failed: 'auth_error', detail: 'wrong key' });
      } else if (text.includes('pre-shared key may be incorrect')) {
        finish({ failed: 'auth_error', detail: 'wrong key' });
      } else if (text.startsWith('CTRL-EVENT-NETWORK-NOT-FOUND')) {
        if (++notFound >= t.notFoundScans) finish({ failed: 'ap_not_found', detail: 'not in range' });
      } else if (text.startsWith('CTRL-EVENT-CONNECTED') && text.includes(`[id=${id} `)) {
        session.off('event', onEvent);
        void awaitAddress();
      }
    };
    session.on('event', onEvent);
  });
}
