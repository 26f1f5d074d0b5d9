import type { TransportSpec } from './message.js';

const PROFILES = new Set(['RTP/AVP', 'RTP/AVP/UDP', 'RTP/AVP/TCP']);

export interface TransportContext {
  /** The RTSP peer's address: the only place media may go. */
  peer: string;
  udpEnabled: boolean;
  /** The transport of the session this SETUP adds a track to, if any: tracks may not mix them. */
  sessionTransport: 'tcp' | 'udp' | undefined;
  /** Interleaved channels this connection's tracks already use. */
  channelsInUse: { has(channel: number): boolean };
}

/**
 * Whether a Transport spec (already range-checked by parseTransport) can be served as asked: unicast
 * RTP/AVP for playing, to the client itself (a destination or source naming another host would make
 * the camera a traffic reflector), on channels this connection does not use yet.
 */
export function acceptableTransport(spec: TransportSpec, context: TransportContext): boolean {
  if (!spec.unicast || !PROFILES.has(spec.protocol)) return false;
  if (spec.mode !== undefined && spec.mode !== 'PLAY') return false;
  for (const address of [spec.destination, spec.source]) {
    if (address !== undefined && address !== context.peer) return false;
  }
  const transport = spec.lowerTransport === 'TCP' ? 'tcp' : 'udp';
  if (context.sessionTransport !== undefined && context.sessionTransport !== transport) return false;
  if (transport === 'udp') return context.udpEnabled && spec.clientPort !== undefined;
  const channels = spec.interleaved;
  return channels === undefined || channels.every((channel) => !context.channelsInUse.has(channel));
}

/** The first even/odd channel pair not in use yet, for a client that named none. */
export function freeChannels(inUse: { has(channel: number): boolean }): [number, number] | undefined {
  for (let channel = 0; channel < 255; channel += 2) {
    if (!inUse.has(channel) && !inUse.has(channel + 1)) return [channel, channel + 1];
  }
  return undefined;
}
