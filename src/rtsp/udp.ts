import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns';
import { isIPv4 } from 'node:net';
import { type UdpBatch, udpBatchFor } from './udp-batch.js';
import { UdpFanout } from './udp-fanout.js';

export interface UdpPair {
  rtp: Socket;
  rtcp: Socket;
  rtpPort: number;
  /** RTP goes out in sendmmsg calls with the addon (docs/rtsp.md, "UDP: a frame to every viewer"). */
  batch: UdpBatch;
  /** Each frame to all of the UDP viewers at once, through `batch`. */
  fanout: UdpFanout;
  /** The RTP socket's send buffer as the kernel granted it (Linux reports twice what was set). */
  sendBufferBytes: number;
  close(): Promise<void>;
}

function bind(socket: Socket, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

/**
 * The send buffer asked for the RTP socket. Past a real interface's queue (not loopback) the kernel
 * holds each datagram against the socket until it has left, and at Linux's default (212992 bytes) it
 * took 118 datagrams of one sendmmsg, not even a 200 kB keyframe for one viewer (veth and tc tbf at
 * 50 Mbit/s, test/rtsp/udp-send-buffer.test.ts): the rest, and every frame while it waited, went
 * through dgram one datagram at a time. Granted in full (1 MiB, Linux doubles it) it takes a 200 kB
 * keyframe for three or four viewers. Not more: on a link slower than the stream (a camera on weak
 * Wi-Fi) the buffer fills, and what it holds is latency before the slow-client policy sees a queue
 * (docs/rtsp.md). The kernel caps it at net.core.wmem_max, 212992 unless raised
 * (systemd/sysctl.d/60-ipcam-agent.conf), which still gives twice the default.
 */
export const RTP_SEND_BUFFER_BYTES = 512 * 1024;

/** A send buffer granted below the one asked (`RTP_SEND_BUFFER_BYTES`): capped by net.core.wmem_max. */
export function sendBufferCapped(grantedBytes: number): boolean {
  // Linux doubles what it grants, for its own bookkeeping.
  return grantedBytes < 2 * RTP_SEND_BUFFER_BYTES;
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

/**
 * Media goes only to the RTSP peer's own address, a literal: it is given back at once. dgram otherwise
 * asks dns.lookup for every datagram, which answers a literal on the next tick, so each send would wait
 * for a tick and hold its buffers until then.
 */
const literalLookup = ((
  address: string,
  _family: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
) => {
  if (isIPv4(address)) callback(null, address, 4);
  else lookup(address, 4, callback);
}) as unknown as typeof lookup;

/**
 * The server's RTP/RTCP socket pair, shared by all UDP sessions (RTP on an even port, RTCP on the next,
 * as RFC 3550 asks). Port 0 picks a free even pair.
 */
export async function bindUdpPair(
  host: string,
  port: number,
  attempts = 20,
  addonPath?: string,
): Promise<UdpPair> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const rtp = createSocket({ type: 'udp4', lookup: literalLookup });
    const rtcp = createSocket({ type: 'udp4', lookup: literalLookup });
    try {
      const rtpPort = await bind(rtp, port, host);
      if (rtpPort % 2 !== 0) throw new Error('odd port');
      await bind(rtcp, rtpPort + 1, host);
      try {
        rtp.setSendBufferSize(RTP_SEND_BUFFER_BYTES);
      } catch {
        // Refused by the system: the default buffer works, at more CPU per UDP viewer (logged as capped).
      }
      const pair: UdpPair = {
        rtp,
        rtcp,
        rtpPort,
        batch: udpBatchFor(rtp, addonPath),
        fanout: new UdpFanout(rtp, () => pair.batch),
        sendBufferBytes: rtp.getSendBufferSize(),
        close: async () => {
          // The descriptor's number is free for the next socket or file once closed: never write to it again.
          pair.batch = { unavailable: 'the socket is closed' };
          await Promise.all([closeSocket(rtp), closeSocket(rtcp)]);
        },
      };
      return pair;
    } catch (err) {
      for (const socket of [rtp, rtcp]) {
        try {
          socket.close();
        } catch {
          // never bound: nothing to close
        }
      }
      if (port !== 0) throw err;
    }
  }
  throw new Error('no free even UDP port pair for RTP/RTCP');
}
