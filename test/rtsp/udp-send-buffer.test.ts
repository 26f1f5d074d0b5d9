import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packetizeH264 } from '../../src/rtp/h264-packetizer.js';
import { packetizeFrame } from '../../src/rtp/packetized-frame.js';
import { bindUdpPair, sendBufferCapped, type UdpPair } from '../../src/rtsp/udp.js';
import { ipv4Number, type UdpBatch, udpBatchFor } from '../../src/rtsp/udp-batch.js';
import { ROOT } from '../helpers/daemon.js';
import { createShapedLink, type ShapedLink } from '../helpers/shaped-link.js';

const isRoot = process.getuid?.() === 0;
const WMEM_MAX = '/proc/sys/net/core/wmem_max';
const VIEWERS = 3;

/** A 200 kB keyframe: 145 datagrams of 1400 bytes. */
const keyframe = packetizeFrame(
  packetizeH264([Buffer.concat([Buffer.from([0x65]), randomBytes(200_000)])], 1400),
  96,
);

/** Five numbers per viewer, as `sendFrames` takes them: nobody listens there, the qdisc holds them. */
function targets(address: string): Uint32Array {
  const out = new Uint32Array(VIEWERS * 5);
  for (let v = 0; v < VIEWERS; v += 1)
    out.set([ipv4Number(address) ?? 0, 40_000 + 2 * v, 0, 0, v + 1], v * 5);
  return out;
}

function sendKeyframe(batch: UdpBatch, address: string): number {
  if (!('addon' in batch)) throw new Error(`no batch send: ${batch.unavailable}`);
  return batch.addon.sendFrames(batch.fd, keyframe.image, keyframe.offsets, targets(address));
}

// On loopback the kernel hands a datagram over at once; past a real interface's queue it holds each one
// against the sending socket until it has left. A veth pair behind tc tbf is such a queue.
describe('the RTP socket send buffer, past a real queue (network namespace, veth, tc tbf; as root)', () => {
  let link: ShapedLink;
  let udp: UdpPair;

  beforeAll(async () => {
    expect(isRoot, 'this test needs root: it makes a network namespace and a shaped veth link').toBe(true);
    // What the package's sysctl drop-in sets, applied here when the machine's cap is lower.
    const dropIn = await readFile(join(ROOT, 'systemd', 'sysctl.d', '60-ipcam-agent.conf'), 'utf8');
    const wanted = Number(/^net\.core\.wmem_max = (\d+)$/m.exec(dropIn)?.[1]);
    expect(wanted).toBeGreaterThan(0);
    // Raised only while the socket takes its buffer (set once, at bind): the machine keeps its own.
    const before = (await readFile(WMEM_MAX, 'utf8')).trim();
    link = await createShapedLink('50mbit');
    if (Number(before) < wanted) await writeFile(WMEM_MAX, `${wanted}\n`);
    try {
      udp = await bindUdpPair(link.hostAddress, 0);
    } finally {
      await writeFile(WMEM_MAX, `${before}\n`);
    }
  }, 30_000);

  afterAll(async () => {
    await udp?.close();
    await link?.remove();
  });

  it('takes a keyframe for three viewers in one call, where a socket with the default buffer does not', async () => {
    expect(sendBufferCapped(udp.sendBufferBytes)).toBe(false);
    expect(sendKeyframe(udp.batch, link.clientAddress)).toBe(keyframe.offsets.length * VIEWERS);

    // The same send from a socket left at the system's default buffer stops part way: what the pair's
    // own buffer is for. (It shows the queue holds datagrams here, so the line above could fail.)
    const plain = createSocket('udp4');
    await new Promise<void>((resolve) => plain.bind(0, link.hostAddress, resolve));
    try {
      const taken = sendKeyframe(udpBatchFor(plain), link.clientAddress);
      expect(taken).toBeLessThan(keyframe.offsets.length);
    } finally {
      plain.close();
    }
  });
});
