// The cost of one RTP datagram through Node's dgram, apart from the RTSP server: what a UDP viewer
// costs per packet at the least (docs/rtsp.md, "Fan-out"). Sends a 12-byte header and a 1388-byte
// payload as two pieces, as `udpSink` does, to a receiver in another process on loopback, in bursts of
// 100 with a turn of the event loop between, from the server's own shared socket (`bindUdpPair`) and
// from a connected one, and through the batch addon (udp-batch.c: a burst is one frame to one viewer,
// its headers stamped in C, in sendmmsg calls of 64); prints user and system CPU per datagram.
// Run: node --import tsx bench/udp-send.ts (figures printed, nothing asserted).
import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { setImmediate as turn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { packetizeFrame } from '../src/rtp/packetized-frame.js';
import { bindUdpPair } from '../src/rtsp/udp.js';

const SENDS = 200_000;
const BURST = 100;

async function measure(name: string, sendBurst: () => void): Promise<void> {
  const before = process.cpuUsage();
  for (let sent = 0; sent < SENDS; sent += BURST) {
    sendBurst();
    await turn();
  }
  const used = process.cpuUsage(before);
  const us = (v: number) => (v / SENDS).toFixed(2);
  console.log(
    `${name}: ${us(used.user + used.system)} µs per datagram (user ${us(used.user)}, system ${us(used.system)})`,
  );
}

if (process.argv[2] === 'receiver') {
  const socket = createSocket('udp4');
  socket.on('message', () => undefined);
  socket.bind(0, '127.0.0.1', () => process.send?.(socket.address().port));
} else {
  const receiver = fork(fileURLToPath(import.meta.url), ['receiver'], { execArgv: ['--import', 'tsx'] });
  const [port] = (await once(receiver, 'message')) as [number];
  const header = Buffer.alloc(12);
  const payload = Buffer.alloc(1388);
  const pair = await bindUdpPair('127.0.0.1', 0);
  const fail = (err: Error) => {
    console.error(`send failed: ${err.message}`);
    process.exit(1);
  };
  pair.rtp.on('error', fail);
  const connected = createSocket('udp4');
  connected.on('error', fail);
  connected.bind(0, '127.0.0.1');
  await once(connected, 'listening');
  connected.connect(port, '127.0.0.1');
  await once(connected, 'connect');
  const burst = (send: () => void) => () => {
    for (let i = 0; i < BURST; i += 1) send();
  };
  // A frame of BURST packets as the sessions share it, and one viewer to send it to.
  const frame = packetizeFrame(
    Array.from({ length: BURST }, () => ({ payload: [payload], marker: false })),
    96,
  );
  const targets = Uint32Array.from([0x7f000001, port, 0, 0, 0]);
  const { batch } = pair;
  for (let round = 0; round < 2; round += 1) {
    await measure(
      'the shared pair (address per send)',
      burst(() => pair.rtp.send([header, payload], port, '127.0.0.1')),
    );
    await measure(
      'a connected socket',
      burst(() => connected.send([header, payload])),
    );
    if ('addon' in batch)
      await measure(
        'the shared pair, batch addon (sendFrames: headers stamped in C, sendmmsg calls of 64)',
        () => {
          const taken = batch.addon.sendFrames(batch.fd, frame.image, frame.offsets, targets);
          if (taken !== BURST) fail(new Error(`the kernel took ${taken} of ${BURST}`));
        },
      );
    else console.log(`batch addon: ${batch.unavailable}`);
  }
  await pair.close();
  connected.close();
  receiver.kill();
}
