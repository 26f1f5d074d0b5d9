import type { Socket } from 'node:dgram';
import type { PacketizedFrame } from '../rtp/packetized-frame.js';
import { TARGET_FIELDS, type UdpBatch } from './udp-batch.js';

/** A viewer's own dgram path for its datagrams from `from` on: what the batch did not send. */
export type SendRest = (
  frame: PacketizedFrame,
  from: number,
  firstSeq: number,
  timestamp: number,
  ssrc: number,
) => void;

/** One frame and the viewers it goes to, in the order their sessions sent it. */
interface Pending {
  frame: PacketizedFrame;
  targets: number[];
  rests: SendRest[];
}

/**
 * A stream's frame reaches every session in one turn of the event loop (one hub event), so the frames
 * the UDP viewers are sent in that turn are gathered here and leave when it ends, each frame to all of
 * its viewers in one addon call: the headers are stamped in C and the datagrams of several viewers share
 * a sendmmsg, as GStreamer's multiudpsink does (docs/rtsp.md, "UDP: a frame to every viewer"). What the
 * kernel does not take, and every frame while dgram still queues earlier datagrams (so none overtakes
 * another), goes through each viewer's dgram path.
 */
export class UdpFanout {
  readonly #socket: Socket;
  readonly #batch: () => UdpBatch;
  #pending: Pending[] = [];
  #scheduled = false;

  /** `batch` is read at each send: the pair replaces it when the socket closes. */
  constructor(socket: Socket, batch: () => UdpBatch) {
    this.#socket = socket;
    this.#batch = batch;
  }

  /** `ipv4` undefined (not a dotted IPv4 peer): the viewer's datagrams always go through dgram. */
  send(
    frame: PacketizedFrame,
    to: { ipv4: number | undefined; port: number },
    firstSeq: number,
    timestamp: number,
    ssrc: number,
    rest: SendRest,
  ): void {
    if (to.ipv4 === undefined || !('addon' in this.#batch())) {
      rest(frame, 0, firstSeq, timestamp, ssrc);
      return;
    }
    let last = this.#pending.at(-1);
    if (last?.frame !== frame) {
      last = { frame, targets: [], rests: [] };
      this.#pending.push(last);
    }
    last.targets.push(to.ipv4, to.port, firstSeq & 0xffff, timestamp >>> 0, ssrc >>> 0);
    last.rests.push(rest);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  readonly #flush = () => {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = [];
    for (const { frame, targets, rests } of pending) {
      const batch = this.#batch();
      // Closed since the frame was sent: the socket takes nothing more.
      if (!('addon' in batch)) return;
      const count = frame.offsets.length;
      const taken =
        this.#socket.getSendQueueCount() > 0 || count === 0
          ? 0
          : Math.max(
              0,
              batch.addon.sendFrames(batch.fd, frame.image, frame.offsets, Uint32Array.from(targets)),
            );
      for (const [viewer, rest] of rests.entries()) {
        const sent = Math.min(count, Math.max(0, taken - viewer * count));
        if (sent === count) continue;
        const at = viewer * TARGET_FIELDS;
        rest(frame, sent, targets[at + 2] ?? 0, targets[at + 3] ?? 0, targets[at + 4] ?? 0);
      }
    }
  };
}
