import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawRtspClient } from '../helpers/raw-rtsp.js';
import { type RtspSim, startRtspSim } from '../helpers/rtsp-sim.js';

/** An RTCP receiver report without report blocks as a `$` frame on `channel`. */
function interleavedRr(channel: number): Buffer {
  return Buffer.from([0x24, channel, 0, 8, 0x80, 201, 0x00, 0x01, 0x12, 0x34, 0xab, 0xcd]);
}

describe('RTSP bounds: connection caps, idle and session timeouts, sessions per connection, pipelining', () => {
  let cam: RtspSim;
  const open: RawRtspClient[] = [];
  const connect = async (host: string, withCredentials = false) => {
    const client = await RawRtspClient.open(
      cam.rtspPort,
      withCredentials ? cam.credentials : undefined,
      host,
    );
    open.push(client);
    return client;
  };

  beforeAll(async () => {
    cam = await startRtspSim({
      maxConnections: 8,
      maxConnectionsPerIp: 4,
      idleTimeoutSeconds: 3,
      sessionTimeoutSeconds: 2,
      maxSessionsPerConnection: 2,
    });
    await cam.sim.waitForLog('rtsp server listening', 30_000);
  }, 60_000);
  afterAll(async () => {
    for (const client of open) client.close();
    await cam?.sim.kill();
  });

  it('per address: the oldest unauthenticated connection gives way; with all authenticated, a newcomer is refused', async () => {
    const clients: RawRtspClient[] = [];
    for (let i = 0; i < 4; i += 1) {
      const client = await connect('127.0.0.5', true);
      expect((await client.request('OPTIONS', '*')).status).toBe(200);
      clients.push(client);
    }
    const fifth = await connect('127.0.0.5', true);
    await clients[0]?.closed;
    expect((await fifth.request('OPTIONS', '*')).status).toBe(200);
    const held = [...clients.slice(1), fifth];
    for (const client of held)
      expect((await client.request('DESCRIBE', cam.url('/sub', false))).status).toBe(200);
    const sixth = await connect('127.0.0.5');
    await sixth.closed;
    expect(sixth.responses).toHaveLength(0);
    for (const client of held) expect(client.socket.destroyed).toBe(false);
    expect((await held[0]?.request('OPTIONS', '*'))?.status).toBe(200);

    // In total (8): four idle connections from one neighbour, and the owner still gets in; one of the
    // neighbour's makes room.
    const neighbour: RawRtspClient[] = [];
    for (let i = 0; i < 4; i += 1) {
      const client = await connect('127.0.0.6');
      expect((await client.request('OPTIONS', '*')).status).toBe(200);
      neighbour.push(client);
    }
    const owner = await connect('127.0.0.1', true);
    await neighbour[0]?.closed;
    expect((await owner.request('DESCRIBE', cam.url('/main', false))).status).toBe(200);
    for (const client of [...held, ...neighbour, owner]) client.close();
  });

  it('closes a connection that sends no complete request within the idle timeout', async () => {
    const began = performance.now();
    const silent = await connect('127.0.0.7');
    const slow = await connect('127.0.0.7');
    slow.send('OPTIONS * RTSP/1.0\r\nCSe');
    await Promise.all([silent.closed, slow.closed]);
    const seconds = (performance.now() - began) / 1000;
    expect(seconds).toBeGreaterThan(2.5);
    expect(seconds).toBeLessThan(10);
    expect(slow.responses).toHaveLength(0);
  });

  it('ends a TCP session without requests or RTCP after the session timeout; RTCP receiver reports keep one alive', async () => {
    const keeper = await connect('127.0.0.8', true);
    await keeper.play(cam.url('/sub', false));
    const timer = setInterval(() => keeper.send(interleavedRr(1)), 500);
    try {
      for (let round = 0; round < 2; round += 1) {
        const quiet = await connect('127.0.0.8', true);
        await quiet.play(cam.url('/sub', false));
        await quiet.until(() => quiet.frames.length > 0, 'the quiet client’s first packets');
        await quiet.closed;
      }
      await cam.sim.waitForLog('rtsp session timed out');
      // Two silent sessions timed out one after the other while the keeper sent only RTCP.
      expect(keeper.socket.destroyed).toBe(false);
      const frames = keeper.frames.length;
      await keeper.until(() => keeper.frames.length > frames + 5, 'the keeper still receiving');
    } finally {
      clearInterval(timer);
      keeper.close();
    }
  });

  it('caps the sessions one connection may hold', async () => {
    const client = await connect('127.0.0.9', true);
    const transport = { Transport: 'RTP/AVP/TCP;unicast' };
    const first = await client.request('SETUP', `${cam.url('/main', false)}/trackID=0`, transport);
    const second = await client.request('SETUP', `${cam.url('/sub', false)}/trackID=0`, transport);
    expect([first.status, second.status]).toEqual([200, 200]);
    // Without an interleaved parameter the second session got the next free channels.
    expect(second.headers.transport).toContain('interleaved=2-3');
    const third = await client.request('SETUP', `${cam.url('/main', false)}/trackID=0`, transport);
    expect(third.status).toBe(453);
    // Channels already taken on this connection are refused: the audio track of the first session
    // may not take the second session's channels.
    const session = (first.headers.session ?? '').split(';')[0] ?? '';
    const describe = await client.request('DESCRIBE', cam.url('/main', false));
    expect(describe.body).toContain('m=audio');
    const clash = await client.request('SETUP', `${cam.url('/main', false)}/trackID=1`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3',
      Session: session,
    });
    expect(clash.status).toBe(461);
    client.close();
  });

  it('answers a burst of pipelined requests in order, and oversized requests with 413/431 and a close', async () => {
    const client = await connect('127.0.0.10');
    const count = 300;
    let burst = '';
    for (let i = 1; i <= count; i += 1) burst += `OPTIONS * RTSP/1.0\r\nCSeq: ${i}\r\n\r\n`;
    client.send(burst);
    await client.until(() => client.responses.length >= count, 'every reply');
    expect(client.responses.map((r) => Number(r.headers.cseq))).toEqual(
      Array.from({ length: count }, (_, i) => i + 1),
    );
    client.close();

    const headers = await connect('127.0.0.10');
    const many = Array.from({ length: 80 }, (_, i) => `X-H${i}: ${i}`).join('\r\n');
    headers.send(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n${many}\r\n\r\n`);
    await headers.closed;
    expect(headers.responses.map((r) => r.status)).toEqual([431]);

    const body = await connect('127.0.0.10');
    body.send('SET_PARAMETER * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 1000000\r\n\r\n');
    await body.closed;
    expect(body.responses.map((r) => r.status)).toEqual([413]);
  });
});
