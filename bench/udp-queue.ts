// The RTP socket's send buffer past a real queue: CPU of sending an 11 Mbit/s stream to UDP viewers in a
// network namespace behind a veth pair (tc tbf), with the buffer the daemon asks for and with Linux's
// default, and how many datagrams went through dgram one at a time (docs/rtsp.md, "UDP send buffer").
// Loopback, where bench/rtsp-fanout.ts measures, hands datagrams over at once and never fills it.
// Run as root: node --import tsx bench/udp-queue.ts [--viewers 4] [--rate 100mbit] [--seconds 10]
// (figures printed, nothing asserted).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { packetizeH264 } from '../src/rtp/h264-packetizer.js';
import { type PacketizedFrame, packetizeFrame } from '../src/rtp/packetized-frame.js';
import { udpSink } from '../src/rtsp/sinks.js';
import { bindUdpPair } from '../src/rtsp/udp.js';
import { createShapedLink } from '../test/helpers/shaped-link.js';

const { values: opts } = parseArgs({
  options: {
    viewers: { type: 'string', default: '4' },
    rate: { type: 'string', default: '100mbit' },
    seconds: { type: 'string', default: '10' },
  },
});
const VIEWERS = Number(opts.viewers);
const SECONDS = Number(opts.seconds);
const FPS = 30;
const GOP = 2 * FPS;
/** 11 Mbit/s in 2 s GOPs: a 250 kB keyframe, the rest in equal P-frames. */
const KEYFRAME_BYTES = 250_000;
const P_FRAME_BYTES = Math.round((11e6 / 8) * 2 - KEYFRAME_BYTES) / (GOP - 1);
/** Linux doubles what is set: this gives its default, 212992. */
const DEFAULT_SNDBUF_SET = 106_496;

const frameOf = (bytes: number, type: number): PacketizedFrame =>
  packetizeFrame(packetizeH264([Buffer.concat([Buffer.from([type]), randomBytes(bytes)])], 1400), 96);

async function run(
  hostAddress: string,
  clientAddress: string,
  buffer: 'daemon' | 'default',
): Promise<string> {
  const pair = await bindUdpPair(hostAddress, 0);
  if (buffer === 'default') pair.rtp.setSendBufferSize(DEFAULT_SNDBUF_SET);
  const granted = pair.rtp.getSendBufferSize();
  let oneByOne = 0;
  const send = pair.rtp.send.bind(pair.rtp);
  pair.rtp.send = ((...args: Parameters<typeof send>) => {
    oneByOne += 1;
    return send(...args);
  }) as typeof send;
  const sinks = Array.from({ length: VIEWERS }, (_, v) =>
    udpSink(pair, clientAddress, [40_000 + 2 * v, 40_001 + 2 * v]),
  );
  const keyframe = frameOf(KEYFRAME_BYTES, 0x65);
  const pFrame = frameOf(P_FRAME_BYTES, 0x41);
  let seq = 0;
  let datagrams = 0;
  const start = process.cpuUsage();
  const began = performance.now();
  for (let n = 0; n < SECONDS * FPS; n += 1) {
    const frame = n % GOP === 0 ? keyframe : pFrame;
    for (const sink of sinks) sink.sendFrame(frame, seq, n * 3000, 1);
    seq += frame.offsets.length;
    datagrams += frame.offsets.length * VIEWERS;
    // On schedule, as frames come from the encoder.
    const due = began + ((n + 1) * 1000) / FPS;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  }
  const cpu = process.cpuUsage(start);
  const wall = (performance.now() - began) / 1000;
  await pair.close();
  const percent = ((cpu.user + cpu.system) / 1e6 / wall) * 100;
  return `| ${buffer} | ${granted} | ${VIEWERS} | ${percent.toFixed(1)} % | ${((oneByOne / datagrams) * 100).toFixed(1)} % |`;
}

const link = await createShapedLink(opts.rate ?? '100mbit');
try {
  console.log(`11 Mbit/s (${FPS} fps, 2 s GOP) to ${VIEWERS} UDP viewers behind veth + tbf ${opts.rate}`);
  console.log('| send buffer | bytes | viewers | sender CPU | datagrams one by one (dgram) |');
  console.log('|---|---|---|---|---|');
  for (const buffer of ['default', 'daemon', 'default', 'daemon'] as const)
    console.log(await run(link.hostAddress, link.clientAddress, buffer));
} finally {
  await link.remove();
}
