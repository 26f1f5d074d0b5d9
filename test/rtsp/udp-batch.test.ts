import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packetizeH264 } from '../../src/rtp/h264-packetizer.js';
import { packetizeFrame } from '../../src/rtp/packetized-frame.js';
import { udpSink } from '../../src/rtsp/sinks.js';
import { bindUdpPair, type UdpPair } from '../../src/rtsp/udp.js';
import { ipv4Number, socketFd } from '../../src/rtsp/udp-batch.js';

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

  it('sends each header and payload as one datagram, in order, from the socket’s own port', async () => {
    const udp = await pair();
    if (!('addon' in udp.batch)) throw new Error(udp.batch.unavailable);
    const rx = await receiver();
    closing.push(() => void rx.socket.close());
    // More than one sendmmsg call's worth (64), with payloads of many sizes including none; small
    // enough in all that the receiver's default buffer holds them until its loop reads them.
    const count = 100;
    const headers = randomBytes(count * 12);
    const payloads = Array.from({ length: count }, (_, i) => randomBytes((i * 37) % 700));
    const taken = udp.batch.addon.sendBatch(
      udp.batch.fd,
      ipv4Number('127.0.0.1') ?? 0,
      rx.port,
      headers,
      12,
      payloads,
    );
    expect(taken).toBe(count);
    const got = await rx.take(count);
    for (const [i, datagram] of got.entries()) {
      expect(datagram.port).toBe(udp.rtpPort);
      expect(
        datagram.bytes.equals(Buffer.concat([headers.subarray(i * 12, i * 12 + 12), payloads[i] as Buffer])),
      ).toBe(true);
    }
  });

  it('refuses bad arguments with a TypeError and reports a socket error as -errno, never crashing', async () => {
    const udp = await pair();
    if (!('addon' in udp.batch)) throw new Error(udp.batch.unavailable);
    const { addon, fd } = udp.batch;
    const loose = addon as unknown as { sendBatch: (...args: unknown[]) => number };
    const one = [Buffer.alloc(4)];
    expect(() => loose.sendBatch(fd, 0x7f000001, 9, Buffer.alloc(12), 12)).toThrow(TypeError);
    expect(() => loose.sendBatch('x', 0x7f000001, 9, Buffer.alloc(12), 12, one)).toThrow(TypeError);
    expect(() => loose.sendBatch(fd, 0x7f000001, 0, Buffer.alloc(12), 12, one)).toThrow(/bad port/);
    expect(() => loose.sendBatch(fd, 0x7f000001, 9, Buffer.alloc(11), 12, one)).toThrow(/headers shorter/);
    expect(() => loose.sendBatch(fd, 0x7f000001, 9, Buffer.alloc(12), 0, one)).toThrow(/header size/);
    expect(() => loose.sendBatch(fd, 0x7f000001, 9, Buffer.alloc(12), 12, ['not a buffer'])).toThrow(
      TypeError,
    );
    expect(() => loose.sendBatch(fd, 0x7f000001, 9, Buffer.alloc(12), 12, {})).toThrow(/array/);
    // A bad payload at the end of a long frame: refused before any of the frame leaves.
    const rx = await receiver();
    closing.push(() => void rx.socket.close());
    const long = [...Array.from({ length: 99 }, () => Buffer.alloc(8)), 'not a buffer'];
    expect(() => loose.sendBatch(fd, 0x7f000001, rx.port, Buffer.alloc(1200), 12, long)).toThrow(/Buffer/);
    expect(addon.sendBatch(fd, 0x7f000001, rx.port, Buffer.alloc(12), 12, [Buffer.from('after')])).toBe(1);
    expect((await rx.take(1))[0]?.bytes.subarray(12).toString()).toBe('after');
    // A descriptor that is not a socket: the kernel's ENOTSOCK (88) comes back, nothing is thrown.
    const file = openSync(join(tmpdir(), `udp-batch-${process.pid}`), 'w');
    closing.push(() => closeSync(file));
    expect(addon.sendBatch(file, 0x7f000001, 9, Buffer.alloc(12), 12, one)).toBe(-88);
    expect(addon.sendBatch(fd, 0x7f000001, 9, Buffer.alloc(0), 12, [])).toBe(0);
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

  it('makes a session’s datagrams byte for byte the same as dgram does, frame after frame', async () => {
    const real = await pair();
    if (!('addon' in real.batch)) throw new Error(real.batch.unavailable);
    // The same pair, counting its batch sends: the frames must go the batch way, not fall back.
    const { addon, fd } = real.batch;
    let batchCalls = 0;
    const counting: UdpPair = {
      ...real,
      batch: {
        fd,
        addon: {
          sendBatch: (...args) => {
            batchCalls += 1;
            return addon.sendBatch(...args);
          },
        },
      },
    };
    const plain = await pair(join(tmpdir(), 'no-such-addon.node'));
    const rxBatched = await receiver();
    const rxPlain = await receiver();
    closing.push(
      () => void rxBatched.socket.close(),
      () => void rxPlain.socket.close(),
    );
    const batchedSink = udpSink(counting, '127.0.0.1', [rxBatched.port, rxBatched.port + 1]);
    const plainSink = udpSink(plain, '127.0.0.1', [rxPlain.port, rxPlain.port + 1]);
    let seq = 65_500; // wraps within the first frame
    const frames = [frame(50_000), frame(3000), frame(0), frame(20_000)];
    for (const [i, f] of frames.entries()) {
      batchedSink.sendFrame(f, seq, 3000 * i, 0xdeadbeef);
      plainSink.sendFrame(f, seq, 3000 * i, 0xdeadbeef);
      const [a, b] = await Promise.all([rxBatched.take(f.payloads.length), rxPlain.take(f.payloads.length)]);
      expect(a.map((d) => d.bytes.toString('hex'))).toEqual(b.map((d) => d.bytes.toString('hex')));
      expect(a.every((d) => d.bytes.readUInt32BE(8) === 0xdeadbeef && d.port === real.rtpPort)).toBe(true);
      if (i === 0) expect(a[0]?.bytes.readUInt16BE(2)).toBe(65_500);
      seq = (seq + f.payloads.length) & 0xffff;
    }
    expect(batchCalls).toBe(frames.length);
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
