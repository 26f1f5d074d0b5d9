import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrames, type MediaDevice, run, startMediaDevice } from '../helpers/media.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { StalledClient } from '../helpers/stalled-client.js';

describe('RTSP with a stalled client among others', () => {
  let broker: Mosquitto;
  let cam: MediaDevice;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    // Noise does not compress: a few Mbit/s fill the kernel's socket buffers within seconds, so the
    // server's own queue is what grows behind a client that stopped reading.
    const clip = join(await mkdtemp(join(tmpdir(), 'noise-')), 'noise.mp4');
    await run('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=640x360:rate=15,noise=alls=80:allf=t',
      '-t',
      '4',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '8',
      clip,
    ]);
    cam = await startMediaDevice(broker.url, {
      media: { source: { kind: 'file', path: clip }, audio: { codec: 'none' } },
      settings: {
        stream: {
          main: { width: 640, height: 360, fps: 15, bitrateKbps: 6000 },
          sub: { width: 320, height: 180, fps: 10, bitrateKbps: 200 },
        },
      },
      rtsp: { slowClient: { skipAboveBytes: 262144, dropAboveBytes: 4194304, dropAfterSkippingSeconds: 2 } },
    });
  });
  afterAll(async () => {
    await cam.daemon.kill();
    await broker.stop();
  });

  it('keeps the other three clients fed and disconnects the stalled one', async () => {
    const stalled = new StalledClient(cam.rtspPort, cam.url('/main', false), cam.credentials);
    await stalled.stalled();
    const others = await Promise.all([
      decodeFrames(cam.url('/main'), 45),
      decodeFrames(cam.url('/sub'), 30),
      decodeFrames(cam.url('/main'), 45, 'udp'),
    ]);
    for (const result of others) expect(result.code).toBe(0);
    // Not reading at all: first skipped ahead, then dropped, instead of buffered without end.
    const skipped = JSON.parse(
      await cam.daemon.waitForLog('rtsp client falling behind, skipping to the next keyframe', 30000),
    );
    expect(skipped.backlog).toBeGreaterThan(262144);
    await cam.daemon.waitForLog('rtsp client too slow, disconnected', 30000);
    stalled.stop();
  });
});
