import type { Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { loadAddon } from '../core/native-addon.js';

/** Numbers per viewer in `sendFrames` targets: IPv4 address, port, first sequence number, timestamp, SSRC. */
export const TARGET_FIELDS = 5;

/**
 * The native batch send (udp-batch.c): one packetized frame (its `image` and `offsets`) to every viewer
 * in `targets`, each viewer's datagrams stamped with its own sequence numbers, timestamp and SSRC, viewer
 * after viewer, in sendmmsg calls that never block. Returns how many datagrams the kernel took, or
 * -errno when it took none.
 */
export interface UdpBatchAddon {
  sendFrames(fd: number, image: Buffer, offsets: Uint32Array, targets: Uint32Array): number;
}

/** What the RTP socket sends with: the addon and the socket's descriptor, or why dgram is used. */
export type UdpBatch = { addon: UdpBatchAddon; fd: number } | { unavailable: string };

/**
 * Both the source file (src/rtsp/) and the bundle's chunks (dist/bundle/) sit two levels below the
 * package root, where scripts/build.mjs puts the addon.
 */
export const UDP_BATCH_ADDON = fileURLToPath(new URL('../../dist/native/udp-batch.node', import.meta.url));

/**
 * The descriptor behind a bound dgram socket. Node does not publish it (`_handle` is deprecated and
 * warns); its state object, under the `state symbol` key since Node 10, holds the libuv handle.
 */
export function socketFd(socket: Socket): number | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = key ? (socket as unknown as Record<symbol, unknown>)[key] : undefined;
  const fd = (state as { handle?: { fd?: unknown } } | undefined)?.handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** The batch send for a bound `socket`, when the addon loads and the descriptor is found. */
export function udpBatchFor(socket: Socket, addonPath = UDP_BATCH_ADDON): UdpBatch {
  const addon = loadAddon<UdpBatchAddon>(addonPath, ['sendFrames']);
  if (typeof addon === 'string') return { unavailable: addon };
  const fd = socketFd(socket);
  return fd === undefined ? { unavailable: 'the socket descriptor is not reachable' } : { addon, fd };
}

/** A dotted IPv4 literal as the 32-bit number the addon takes; undefined for anything else. */
export function ipv4Number(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}
