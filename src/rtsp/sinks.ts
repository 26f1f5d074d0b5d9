import type { Socket } from 'node:net';
import { RTP_HEADER_SIZE } from '../rtp/packet.js';
import { type PacketizedFrame, stampInterleaved, stampUdpHeader } from '../rtp/packetized-frame.js';
import type { UdpPair } from './udp.js';
import { ipv4Number } from './udp-batch.js';

/** Where one track's packets go: two interleaved channels on the RTSP connection, or UDP ports. */
export interface PacketSink {
  /** One frame's packets with this session's header fields: one socket write (TCP), one datagram each (UDP). */
  sendFrame(frame: PacketizedFrame, firstSeq: number, timestamp: number, ssrc: number): void;
  /** On the second channel/port of the pair. */
  sendRtcp(packet: Buffer): void;
  /** Bytes queued and not yet written; undefined where the transport has no backpressure (UDP). */
  backlog(): number | undefined;
  /**
   * UDP: bytes waiting in the shared socket's send queue (libuv's, for datagrams the kernel could not
   * take at once: a saturated link). Shared by every UDP session, so it is no one client's fault.
   */
  queued?(): number;
  /** TCP: calls `ready` once what is queued has been written; returns what cancels the wait. */
  whenDrained?(ready: () => void): () => void;
}

export interface UdpSink extends PacketSink {
  matches(address: string, port: number): boolean;
}

/** A frame buffer larger than this is not kept for reuse (a huge keyframe is rare; memory is not). */
const MAX_SPARE_BYTES = 1024 * 1024;

/**
 * RTP and RTCP as `$` frames on the RTSP connection (RFC 2326 10.12), on two validated channels. A frame
 * is copied from the shared image, stamped, and written at once: one write per frame, whatever its
 * packet count. The buffer is used again for the next frame when the kernel took it all at once (the
 * socket then holds no reference to it); otherwise the socket keeps it until written and a new one is made.
 */
export function tcpSink(socket: Socket, channels: readonly [number, number]): PacketSink {
  let spare: Buffer | undefined;
  return {
    sendFrame(frame, firstSeq, timestamp, ssrc) {
      if (socket.destroyed) return;
      const size = frame.image.length;
      const out = spare && spare.length >= size ? spare : Buffer.allocUnsafeSlow(size);
      spare = undefined;
      stampInterleaved(frame, out, channels[0], firstSeq, timestamp, ssrc);
      socket.write(out.length === size ? out : out.subarray(0, size));
      if (socket.writableLength === 0 && out.length <= MAX_SPARE_BYTES) spare = out;
    },
    sendRtcp(packet) {
      if (socket.destroyed) return;
      const prefix = Buffer.from([0x24, channels[1], packet.length >> 8, packet.length & 0xff]);
      socket.write(Buffer.concat([prefix, packet]));
    },
    backlog: () => socket.writableLength,
    whenDrained(ready) {
      if (!socket.writableNeedDrain) {
        const immediate = setImmediate(ready);
        return () => clearImmediate(immediate);
      }
      socket.once('drain', ready);
      return () => socket.off('drain', ready);
    },
  };
}

/**
 * RTP and RTCP to the client's ports from the shared pair. `ports` were validated by the Transport
 * parser (1-65535, consecutive) and `address` is the RTSP peer itself, so `send` cannot throw on them.
 *
 * With the batch addon, the pair's fan-out sends each frame to every UDP viewer at once. What it cannot
 * send goes through dgram here, each datagram the session's 12-byte header and the shared payload, two
 * pieces, no copy. The headers are views into a block kept from frame to frame; a block is written again
 * only after the last datagram of the frame that used it has left (its callback), else a new one is made.
 */
export function udpSink(udp: UdpPair, address: string, ports: readonly [number, number]): UdpSink {
  const ignore = () => undefined;
  const to = { ipv4: ipv4Number(address), port: ports[0] };
  let headers: Buffer[] = [];
  let inFlight: Buffer[] | undefined;

  /** Datagrams from `from` on through dgram. */
  const sendQueued = (
    frame: PacketizedFrame,
    from: number,
    firstSeq: number,
    timestamp: number,
    ssrc: number,
  ) => {
    const count = frame.payloads.length;
    if (inFlight === headers || headers.length < count) headers = headerBlock(Math.max(count, 16));
    const block = headers;
    inFlight = block;
    const sent = () => {
      if (inFlight === block) inFlight = undefined;
    };
    for (let i = from; i < count; i += 1) {
      const header = block[i] as Buffer;
      stampUdpHeader(frame, i, header, (firstSeq + i) & 0xffff, timestamp, ssrc);
      // Only the last send takes a callback: they complete in order, and each callback costs a tick.
      udp.rtp.send(
        [header, frame.payloads[i] as Buffer],
        ports[0],
        address,
        i === count - 1 ? sent : undefined,
      );
    }
    if (from >= count) inFlight = undefined;
  };

  return {
    sendFrame(frame, firstSeq, timestamp, ssrc) {
      udp.fanout.send(frame, to, firstSeq, timestamp, ssrc, sendQueued);
    },
    sendRtcp(packet) {
      udp.rtcp.send(packet, ports[1], address, ignore);
    },
    backlog: () => undefined,
    queued: () => udp.rtp.getSendQueueSize(),
    matches: (from, port) => from === address && (port === ports[1] || port === ports[0]),
  };
}

function headerBlock(count: number): Buffer[] {
  const block = Buffer.allocUnsafeSlow(count * RTP_HEADER_SIZE);
  return Array.from({ length: count }, (_, i) =>
    block.subarray(i * RTP_HEADER_SIZE, (i + 1) * RTP_HEADER_SIZE),
  );
}
