import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packetizeH264 } from '../../src/rtp/h264-packetizer.js';
import { type PacketizedFrame, packetizeFrame } from '../../src/rtp/packetized-frame.js';
import { udpSink } from '../../src/rtsp/sinks.js';
import { bindUdpPair, type UdpPair } from '../../src/rtsp/udp.js';
import { ipv4Number, socketFd, type UdpBatchAddon } from '../../src/rtsp/udp-batch.js';

interface Datagram {
  bytes: Buffer;
  port: number;
}

/** A receiver that resolves once `count` datagrams arrived. */
async function receiver(): Promise<{
  socket: Socket;
  port: number;
  take(count: number): Promise<Datagram[]>;
}> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const got: Datagram[] = [];
  let waiter: (() => void) | undefined;
  socket.on('message', (bytes, from) => {
    got.push({ bytes, port: from.port });
    waiter?.();
  });
  return {
    socket,
    port: socket.address().port,
    take: (count) =>
      new Promise((resolve, reject) => {
        // Loopback loses nothing unless the receive buffer overflows: a shortfall is reported, not waited on.
        const timer = setTimeout(
          () => reject(new Error(`${got.length} of ${count} datagrams arrived`)),
          5000,
        );
        const check = () => {
          if (got.length < count) return;
          clearTimeout(timer);
          resolve(got.splice(0, count));
        };
        waiter = check;
        check();
      }),
  };
}

const closing: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

async function pair(addonPath?: string): Promise<UdpPair> {
  const udp = await bindUdpPair('127.0.0.1', 0, 20, addonPath);
  closing.push(() => udp.close());
  return udp;
}

/** An access unit big enough for many datagrams: a keyframe-sized NAL unit of random bytes. */
function frame(bytes: number) {
  const nalu = Buffer.concat([Buffer.from([0x65]), randomBytes(bytes)]);
  return packetizeFrame(packetizeH264([nalu], 1400), 96);
}

describe('batch UDP send (the udp-batch addon)', () => {
  it('is built and loads, and finds the descriptor of a bound dgram socket', async () => {
    const udp = await pair();
    expect(udp.batch).toHaveProperty('fd');
    expect(socketFd(udp.rtp)).toBeGreaterThan(2);
    expect(socketFd(udp.rtp)).not.toBe(socketFd(udp.rtcp));
  });

  it('sends every packet to every viewer with the viewer’s own header, viewer after viewer', async () => {
    const udp = await pair();
    if (!('addon' in udp.batch)) throw new Error(udp.batch.unavailable);
    const rxA = await receiver();
    const rxB = await receiver();
    closing.push(
      () => void rxA.socket.close(),
      () => void rxB.socket.close(),
    );
    // More than one sendmmsg call's worth (64) per viewer, with payloads of many sizes including none;
    // small enough in all that each receiver's default buffer holds them until its loop reads them.
    const count = 100;
    const payloads = Array.from({ length: count }, (_, i) => randomBytes((i * 37) % 700));
    const packed = packetizeFrame(
      payloads.map((p, i) => ({ payload: [p], marker: i === count - 1 })),
      97,
    );
    const viewers = [
      { rx: rxA, seq: 65_500, timestamp: 0xfffffff0, ssrc: 0x01020304 },
      { rx: rxB, seq: 7, timestamp: 90_000, ssrc: 0xdeadbeef },
    ];
    const targets = Uint32Array.from(
      viewers.flatMap((v) => [0x7f000001, v.rx.port, v.seq, v.timestamp, v.ssrc]),
    );
    expect(udp.batch.addon.sendFrames(udp.batch.fd, packed.image, packed.offsets, targets)).toBe(2 * count);
    for (const v of viewers) {
      const got = await v.rx.take(count);
      for (const [i, datagram] of got.entries()) {
        const header = Buffer.alloc(12);
        header[0] = 0x80;
        header[1] = (i === count - 1 ? 0x80 : 0) | 97;
        header.writeUInt16BE((v.seq + i) & 0xffff, 2);
        header.writeUInt32BE(v.timestamp, 4);
        header.writeUInt32BE(v.ssrc, 8);
        expect(datagram.port).toBe(udp.rtpPort);
        expect(datagram.bytes.toString('hex')).toBe(
          Buffer.concat([header, payloads[i] as Buffer]).toString('hex'),
        );
      }
    }
  });

  it('refuses bad arguments with a TypeError and reports a socket error as -errno, never crashing', async () => {
    const udp = await pair();
    if (!('addon' in udp.batch)) throw new Error(udp.batch.unavailable);
    const { addon, fd } = udp.batch;
    const loose = addon as unknown as { sendFrames: (...args: unknown[]) => number };
    const one = frame(100);
    const to = (port: number, seq = 0) => Uint32Array.from([0x7f000001, port, seq, 0, 0]);
    const refused: [unknown[], RegExp][] = [
      [[fd, one.image, one.offsets], /4 arguments/],
      [['x', one.image, one.offsets, to(9)], /bad fd/],
      [[-1, one.image, one.offsets, to(9)], /bad fd/],
      [[fd, 'image', one.offsets, to(9)], /image must be a Buffer/],
      [[fd, one.image, [0], to(9)], /offsets must be a Uint32Array/],
      [[fd, one.image, Int32Array.from([0]), to(9)], /offsets must be a Uint32Array/],
      [[fd, one.image, one.offsets, [0x7f000001, 9, 0, 0, 0]], /targets must be/],
      [[fd, one.image, one.offsets, Uint32Array.from([0x7f000001, 9, 0, 0])], /targets must be/],
      [[fd, one.image, one.offsets, to(0)], /bad port/],
      [[fd, one.image, one.offsets, to(65_536)], /bad port/],
      [[fd, one.image, one.offsets, to(9, 65_536)], /bad sequence number/],
      // A slot shorter than prefix and header, one past the image, and offsets out of order.
      [[fd, one.image, Uint32Array.from([one.image.length - 8]), to(9)], /offsets do not fit/],
      [[fd, one.image, Uint32Array.from([one.image.length + 1]), to(9)], /offsets do not fit/],
      [[fd, Buffer.alloc(64), Uint32Array.from([32, 0]), to(9)], /offsets do not fit/],
    ];
    for (const [args, message] of refused)
      expect(() => loose.sendFrames(...args), String(message)).toThrow(message);
    // A bad viewer at the end of the list: refused before any datagram of the frame leaves.
    const rx = await receiver();
    closing.push(() => void rx.socket.close());
    const long = frame(50_000);
    const good = [0x7f000001, rx.port, 0, 0, 0];
    const targets = Uint32Array.from([...good, ...good, 0x7f000001, 0, 0, 0, 0]);
    expect(() => addon.sendFrames(fd, long.image, long.offsets, targets)).toThrow(/bad port/);
    const after = packetizeFrame([{ payload: [Buffer.from('after')], marker: true }], 96);
    expect(addon.sendFrames(fd, after.image, after.offsets, Uint32Array.from(good))).toBe(1);
    expect((await rx.take(1))[0]?.bytes.subarray(12).toString()).toBe('after');
    // A descriptor that is not a socket: the kernel's ENOTSOCK (88) comes back, nothing is thrown.
    const file = openSync(join(tmpdir(), `udp-batch-${process.pid}`), 'w');
    closing.push(() => closeSync(file));
    expect(addon.sendFrames(file, one.image, one.offsets, to(9))).toBe(-88);
    expect(addon.sendFrames(fd, one.image, one.offsets, new Uint32Array(0))).toBe(0);
  });

  it('forgets the descriptor once the pair is closed: its number may be another socket’s next', async () => {
    const udp = await bindUdpPair('127.0.0.1', 0);
    expect(udp.batch).toHaveProperty('fd');
    await udp.close();
    expect(udp.batch).toEqual({ unavailable: 'the socket is closed' });
  });

  it('gives a reason instead of an addon when the file is missing, and the pair still binds', async () => {
    const udp = await pair(join(tmpdir(), 'no-such-addon.node'));
    expect(udp.batch).toEqual({ unavailable: expect.stringMatching(/^addon not loaded: /) });
  });

  /**
   * The real pair with its addon wrapped: counts the calls and the viewers in each, and lets `take`
   * stand in for the kernel (how much of a call it accepts).
   */
  async function watchedPair(
    take?: (addon: UdpBatchAddon, fd: number, frame: PacketizedFrame, targets: Uint32Array) => number,
    udp?: UdpPair,
  ) {
    udp ??= await pair();
    if (!('addon' in udp.batch)) throw new Error(udp.batch.unavailable);
    const { addon, fd } = udp.batch;
    const calls: number[] = [];
    udp.batch = {
      fd,
      addon: {
        sendFrames: (callFd, image, offsets, targets) => {
          calls.push(targets.length / 5);
          return take
            ? take(addon, callFd, { image, offsets } as PacketizedFrame, targets)
            : addon.sendFrames(callFd, image, offsets, targets);
        },
      },
    };
    return { udp, calls };
  }

  /** Two viewers on a pair, and one on a pair without the addon that sends through dgram alone. */
  async function viewers(udp: UdpPair) {
    const plain = await pair(join(tmpdir(), 'no-such-addon.node'));
    const rx = [await receiver(), await receiver(), await receiver()];
    closing.push(...rx.map((r) => () => void r.socket.close()));
    const sinks = rx.map((r, i) => udpSink(i < 2 ? udp : plain, '127.0.0.1', [r.port, r.port + 1]));
    return { rx, sinks };
  }

  it('sends a frame to all of a stream’s UDP viewers in one call, byte for byte as dgram does', async () => {
    const { udp, calls } = await watchedPair();
    const { rx, sinks } = await viewers(udp);
    let seq = 65_500; // wraps within the first frame
    const frames = [frame(50_000), frame(3000), frame(0), frame(20_000)];
    for (const [i, f] of frames.entries()) {
      // As the hub gives a frame to every session in one turn.
      for (const sink of sinks) sink.sendFrame(f, seq, 3000 * i, 0xdeadbeef);
      const [a, b, plain] = await Promise.all(rx.map((r) => r.take(f.payloads.length)));
      const hex = (datagrams: Datagram[] | undefined) => datagrams?.map((d) => d.bytes.toString('hex'));
      expect(hex(a)).toEqual(hex(plain));
      expect(hex(b)).toEqual(hex(plain));
      expect(a?.every((d) => d.bytes.readUInt32BE(8) === 0xdeadbeef && d.port === udp.rtpPort)).toBe(true);
      if (i === 0) expect(a?.[0]?.bytes.readUInt16BE(2)).toBe(65_500);
      seq = (seq + f.payloads.length) & 0xffff;
    }
    expect(calls).toEqual(frames.map(() => 2));
  });

  it('sends what the kernel did not take through dgram, each viewer’s datagrams in order', async () => {
    const partly = 5;
    // The kernel takes the first viewer's datagrams and the first few of the second's, then is full.
    const { udp, calls } = await watchedPair((addon, fd, f, targets) => {
      const count = f.offsets.length;
      const first = addon.sendFrames(fd, f.image, f.offsets, targets.subarray(0, 5));
      const end = f.offsets[partly] ?? f.image.length;
      const second = addon.sendFrames(
        fd,
        f.image.subarray(0, end),
        f.offsets.subarray(0, partly),
        targets.subarray(5),
      );
      expect([first, second]).toEqual([count, partly]);
      return count + partly;
    });
    const { rx, sinks } = await viewers(udp);
    const f = frame(30_000);
    for (const sink of sinks) sink.sendFrame(f, 100, 9000, 0x0badcafe);
    const [a, b, plain] = await Promise.all(rx.map((r) => r.take(f.payloads.length)));
    const hex = (datagrams: Datagram[] | undefined) => datagrams?.map((d) => d.bytes.toString('hex'));
    expect(hex(a)).toEqual(hex(plain));
    expect(hex(b)).toEqual(hex(plain));
    expect(calls).toEqual([2]);
  });

  it('drops a frame sent in the same turn as the pair closes, without a throw', async () => {
    // Closed by the test, not after it.
    const { udp, calls } = await watchedPair(undefined, await bindUdpPair('127.0.0.1', 0));
    const rx = await receiver();
    closing.push(() => void rx.socket.close());
    udpSink(udp, '127.0.0.1', [rx.port, rx.port + 1]).sendFrame(frame(3000), 0, 0, 1);
    // Sending through dgram on the closed socket would throw in the flush, an uncaught error here.
    await udp.close();
    expect(calls).toEqual([]);
  });

  it('reads only dotted IPv4 literals as addresses', () => {
    expect(ipv4Number('127.0.0.1')).toBe(0x7f000001);
    expect(ipv4Number('255.255.255.255')).toBe(0xffffffff);
    for (const bad of [
      '::1',
      '::ffff:127.0.0.1',
      '1.2.3',
      '1.2.3.256',
      '01234.1.1.1',
      'a.b.c.d',
      '',
      '1.2.3.4.5',
    ])
      expect(ipv4Number(bad), bad).toBeUndefined();
  });
});
