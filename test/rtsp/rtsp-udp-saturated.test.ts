import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MediaDevice, run, startMediaDevice } from '../helpers/media.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { withCredentials } from '../helpers/rtsp-digest.js';
import { createShapedLink, type ShapedLink } from '../helpers/shaped-link.js';

const isRoot = process.getuid?.() === 0;
const SKIP_ABOVE = 262144;

// UDP has no flow control: on a saturated link the kernel's socket buffer fills, and every datagram
// after that waits in libuv's send queue inside the daemon, which nothing bounded (5.8 MB after 5000
// datagrams in a quick trial here). A real slow link: a network namespace behind a veth pair limited to
// 400 kbit/s, the RTSP client inside it, a 6 Mbit/s stream.
describe('RTSP over UDP to a client behind a saturated link (network namespace, tc tbf; as root)', () => {
  let broker: Mosquitto;
  let cam: MediaDevice;
  let link: ShapedLink;

  beforeAll(async () => {
    expect(isRoot, 'this test needs root: it makes a network namespace and a shaped veth link').toBe(true);
    link = await createShapedLink('400kbit');
    broker = await Mosquitto.start();
    // Noise does not compress, so the stream really is several Mbit/s.
    const clip = join(await mkdtemp(join(tmpdir(), 'noise-')), 'noise.mp4');
    await run('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=15,noise=alls=80:allf=t'],
      ...['-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '8', clip],
    ]);
    cam = await startMediaDevice(broker.url, {
      media: { source: { kind: 'file', path: clip }, audio: { codec: 'none' } },
      settings: {
        stream: {
          main: { width: 640, height: 360, fps: 15, bitrateKbps: 6000 },
          sub: { width: 320, height: 180, fps: 10, bitrateKbps: 200 },
        },
      },
      rtsp: { host: link.hostAddress, slowClient: { skipAboveBytes: SKIP_ABOVE } },
    });
  }, 60_000);
  afterAll(async () => {
    await cam?.daemon.kill();
    await broker?.stop();
    await link?.remove();
  });

  it('bounds the daemon’s send queue by skipping to keyframes, and keeps the client', async () => {
    const url = withCredentials(`rtsp://${link.hostAddress}:${cam.rtspPort}/main`, cam.credentials);
    const [command, args] = link.inside('ffmpeg', [
      ...['-v', 'error', '-rtsp_transport', 'udp', '-i', url, '-an', '-t', '20', '-f', 'null', '-'],
    ]);
    // The datagrams go out a frame per sendmmsg; what the full kernel buffer refuses is queued by dgram.
    const send = JSON.parse(await cam.daemon.waitForLog('rtsp udp send')) as { send: string };
    expect(send.send).toBe('sendmmsg');
    const client = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const clientExit = new Promise<number | null>((resolve) => client.once('close', resolve));
    try {
      const line = await cam.daemon.waitForLog('rtsp udp send queue over the limit', 30_000);
      const record = JSON.parse(line) as { transport: string; backlog: number };
      expect(record.transport).toBe('udp');
      // Seen at the frame that crossed the limit: one frame past it at most, not megabytes.
      expect(record.backlog).toBeGreaterThan(SKIP_ABOVE);
      expect(record.backlog).toBeLessThan(SKIP_ABOVE + 1024 * 1024);
      // It resumes at keyframes as the queue drains, again and again, and the client is never dropped.
      await cam.daemon.stdout.waitFor(
        (l) => l.includes('rtsp udp send queue over the limit') && l !== line,
        'a second skip after resuming',
        30_000,
      );
      expect(cam.daemon.stdout.lines.some((l) => l.includes('rtsp client too slow, disconnected'))).toBe(
        false,
      );
    } finally {
      client.kill('SIGINT');
      await clientExit;
    }
    // The daemon still serves: a client on the host side reads the stream.
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0'],
      withCredentials(`rtsp://${link.hostAddress}:${cam.rtspPort}/main`, cam.credentials),
    ]);
    expect(stdout.trim()).toBe('h264');
  }, 90_000);
});
