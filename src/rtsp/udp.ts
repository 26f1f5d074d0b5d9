import { createSocket, type Socket } from 'node:dgram';

export interface UdpPair {
  rtp: Socket;
  rtcp: Socket;
  rtpPort: number;
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

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

/**
 * The server's RTP/RTCP socket pair, shared by all UDP sessions (RTP on an even port, RTCP on the next,
 * as RFC 3550 asks). Port 0 picks a free even pair.
 */
export async function bindUdpPair(host: string, port: number, attempts = 20): Promise<UdpPair> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const rtp = createSocket('udp4');
    const rtcp = createSocket('udp4');
    try {
      const rtpPort = await bind(rtp, port, host);
      if (rtpPort % 2 !== 0) throw new Error('odd port');
      await bind(rtcp, rtpPort + 1, host);
      return {
        rtp,
        rtcp,
        rtpPort,
        close: async () => void (await Promise.all([closeSocket(rtp), closeSocket(rtcp)])),
      };
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
