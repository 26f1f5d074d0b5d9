import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffprobe, type MediaDevice, startMediaDevice } from '../helpers/media.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';
import { nalTypesInRtp, RawRtspClient } from '../helpers/raw-rtsp.js';

describe('RTSP under load and bad input', () => {
  let broker: Mosquitto;
  let cam: MediaDevice;
  let observer: Observer;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/#']);
    cam = await startMediaDevice(broker.url);
  });
  afterAll(async () => {
    await cam.daemon.kill();
    await observer.close();
    await broker.stop();
  });

  it('starts a new client on a keyframe with its parameter sets, from the cache', async () => {
    await ffprobe(cam.url('/main'), 'tcp');
    const client = await RawRtspClient.open(cam.rtspPort, cam.credentials);
    const describe = await client.request('DESCRIBE', cam.url('/main', false), { Accept: 'application/sdp' });
    expect(describe.status).toBe(200);
    expect(describe.body).toMatch(
      /packetization-mode=1;profile-level-id=42c0[0-9a-f]{2};sprop-parameter-sets=/,
    );
    await client.play(cam.url('/main', false));
    // No media before the answer to PLAY: the client must see its 200 first.
    expect(client.responses.at(-1)?.framesBefore).toBe(0);
    await client.until(() => client.frames.some((f) => f.channel === 0), 'first RTP packet');
    const first = client.frames.find((f) => f.channel === 0)?.data ?? Buffer.alloc(0);
    expect(nalTypesInRtp(first)).toEqual(expect.arrayContaining([7, 8]));
    client.close();
  });

  it('answers garbage, huge headers, bad CSeq and path traversal with errors, unaffecting others', async () => {
    const watcher = await RawRtspClient.open(cam.rtspPort, cam.credentials);
    await watcher.play(cam.url('/sub', false));

    const garbage = await RawRtspClient.open(cam.rtspPort, cam.credentials);
    garbage.send('\x00\x01\x02 hello there\r\n\r\n');
    await garbage.until(() => garbage.responses.length > 0, 'error reply');
    expect(garbage.responses[0]?.status).toBe(400);
    await garbage.closed;

    const huge = await RawRtspClient.open(cam.rtspPort, cam.credentials);
    huge.send(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    await huge.until(() => huge.responses.length > 0, 'error reply');
    expect(huge.responses[0]?.status).toBe(431);

    const client = await RawRtspClient.open(cam.rtspPort, cam.credentials);
    client.send('OPTIONS * RTSP/1.0\r\nCSeq: banana\r\n\r\n');
    await client.until(() => client.responses.length > 0, 'reply');
    expect(client.responses[0]?.status).toBe(400);
    const traversal = await client.request('DESCRIBE', `rtsp://127.0.0.1:${cam.rtspPort}/../../etc/passwd`);
    expect([400, 404]).toContain(traversal.status);
    const unknown = await client.request('DESCRIBE', `rtsp://127.0.0.1:${cam.rtspPort}/main/extra/stuff`);
    expect(unknown.status).toBe(404);
    const multicast = await client.request('SETUP', `${cam.url('/main', false)}/trackID=0`, {
      Transport: 'RTP/AVP;multicast',
    });
    expect(multicast.status).toBe(461);
    const nosession = await client.request('PLAY', cam.url('/main', false), { Session: 'deadbeef' });
    expect(nosession.status).toBe(454);
    const options = await client.request('OPTIONS', '*');
    expect(options.headers.public).toContain('GET_PARAMETER');

    const before = watcher.frames.length;
    await watcher.until(() => watcher.frames.length > before + 10, 'the watcher still receiving');
    expect(cam.daemon.child.exitCode).toBeNull();
    watcher.close();
    client.close();
  });

  it('applies new stream settings from desired state without restarting the daemon', async () => {
    const topic = (s: string) => `cam/v1/${cam.device.serial}/${s}`;
    const pid = cam.daemon.child.pid;
    const main = { width: 480, height: 270, fps: 15, bitrateKbps: 400 };
    const reported = observer.next(
      (m) => m.topic === topic('state/reported') && m.json().version === 7,
      'reported',
    );
    await observer.client.publishAsync(
      topic('state/desired'),
      JSON.stringify({ version: 7, state: { stream: { main } } }),
      { qos: 1 },
    );
    await reported;
    await cam.daemon.waitForLog('stream settings changed: restarting the encoder');
    // The old stream's parameters may still be cached for a moment; the new size shows once it runs.
    let width = 0;
    for (let attempt = 0; attempt < 10 && width !== 480; attempt += 1) {
      const video = (await ffprobe(cam.url('/main'), 'tcp')).find((s) => s.codec_type === 'video');
      width = video?.width ?? 0;
    }
    expect(width).toBe(480);
    expect(cam.daemon.child.pid).toBe(pid);
    expect(cam.daemon.child.exitCode).toBeNull();
  });

  it('reports an encoder crash as an error event', async () => {
    // The newest ffmpeg: earlier tests restarted it.
    const pidLine =
      cam.daemon.stdout.lines.filter((l) => l.includes('"msg":"child process running"')).at(-1) ?? '';
    const event = observer.next((m) => m.topic === `cam/v1/${cam.device.serial}/evt/error`, 'error event');
    process.kill((JSON.parse(pidLine) as { pid: number }).pid, 'SIGKILL');
    expect((await event).json()).toMatchObject({ code: 'capture_exited', signal: 'SIGKILL' });
  });
});
