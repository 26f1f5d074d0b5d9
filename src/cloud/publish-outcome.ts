import { errorCode, errorMessage } from '../core/errors.js';

/**
 * What became of a QoS 1 publish. `offline` is not a failure (the reconnect brings another try);
 * `refused` is the broker saying no (PUBACK reason code >= 0x80, e.g. 0x87 not authorized) or a
 * publish that failed while the link stayed up: both count toward parking.
 */
export type PublishOutcome =
  | { kind: 'delivered' }
  | { kind: 'offline' }
  | { kind: 'refused'; reason: string; reasonCode?: number };

export async function publishOutcome(
  link: { readonly connected: boolean },
  publish: () => Promise<void>,
): Promise<PublishOutcome> {
  try {
    await publish();
    return { kind: 'delivered' };
  } catch (err) {
    const reasonCode = mqttReasonCode(err);
    if (reasonCode !== undefined && reasonCode >= 0x80)
      return { kind: 'refused', reason: `reason code 0x${reasonCode.toString(16)}`, reasonCode };
    // mqtt.js fails what was in flight as the socket closes, just before it reports the close.
    await new Promise((resolve) => setImmediate(resolve));
    if (!link.connected || errorCode(err) === 'not_connected') return { kind: 'offline' };
    return { kind: 'refused', reason: errorMessage(err).slice(0, 200) };
  }
}

/** mqtt.js's ErrorWithReasonCode carries the PUBACK reason code as a numeric `code`. */
function mqttReasonCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
