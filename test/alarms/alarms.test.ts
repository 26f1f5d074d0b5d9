import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpsSink } from '../helpers/https-sink.js';
import { type MediaDevice, SMALL_STREAMS, startMediaDevice } from '../helpers/media.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer, type Seen } from '../helpers/observer.js';
import { makePki, type Pki } from '../helpers/pki.js';

function jpegSize(jpeg: Buffer): Promise<string> {
  return probe(jpeg, 'image2pipe');
}

/** codec,width,height of the first stream ffprobe finds in `data`. */
function probe(data: Buffer, format: string): Promise<string> {
  const args = [
    '-v',
    'error',
    '-f',
    format,
    '-i',
    'pipe:0',
    '-show_entries',
    'stream=codec_name,width,height',
    '-of',
    'csv=p=0',
  ];
  return new Promise((resolve) => {
    const child = spawn('ffprobe', args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('close', () => resolve(out.trim()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(data);
  });
}

async function snapshotsOn(cam: MediaDevice): Promise<string[]> {
  return readdir(join(cam.device.dataDir, 'media', 'snapshots')).catch(() => []);
}

describe('motion alarms with pictures', () => {
  let pki: Pki;
  let broker: Mosquitto;
  let observer: Observer;
  let sink: HttpsSink;
  let cam: MediaDevice;
  let version = 0;
  const motionStart = (m: Seen) => m.topic.endsWith('/evt/motion') && m.json().phase === 'start';

  const desire = async (state: Record<string, unknown>) => {
    version += 1;
    const topic = `cam/v1/${cam.device.serial}`;
    const reported = observer.next(
      (m) => m.topic === `${topic}/state/reported` && m.json().version === version,
      `reported v${version}`,
    );
    await observer.client.publishAsync(`${topic}/state/desired`, JSON.stringify({ version, state }), {
      qos: 1,
    });
    await reported;
  };

  beforeAll(async () => {
    pki = await makePki('device');
    sink = new HttpsSink();
    await sink.start(pki);
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/#']);
    // The simulator's object crosses the picture in the first 8 s after the encoder starts.
    cam = await startMediaDevice(broker.url, {
      settings: { uploadUrl: `https://127.0.0.1:${sink.port}/up/{key}`, motion: { cooldownSeconds: 0 } },
      alarms: { uploadCaFile: pki.caCert },
    });
  });
  afterAll(async () => {
    await cam.daemon.kill();
    await observer.close();
    await broker.stop();
    await sink.stop();
  });

  it('raises a motion start, then its main-size JPEG, stored and uploaded over HTTPS, then an end', async () => {
    const start = await observer.waitFor(motionStart, 'motion start', 30000);
    const first = start.json<{ alarmId: string; box: { w: number }; picture: boolean; notify: boolean }>();
    expect(first).toMatchObject({ picture: true, notify: true });
    expect(first).not.toHaveProperty('snapshot');
    const picture = await observer.waitFor(
      (m) => m.topic.endsWith('/evt/motion') && m.json().phase === 'snapshot',
      'its picture',
      30000,
    );
    const body = {
      ...first,
      ...picture.json<{
        alarmId: string;
        snapshot: { key: string; sha256: string; size: number; width: number; height: number };
      }>(),
    };
    expect(body.alarmId).toBe(first.alarmId);
    expect(body.snapshot).toMatchObject({
      width: SMALL_STREAMS.main.width,
      height: SMALL_STREAMS.main.height,
    });
    expect(body.box.w).toBeGreaterThan(0);
    await sink.until(() => sink.received.some((r) => r.sha256 === body.snapshot.sha256), 'the upload');
    const upload = sink.received.find((r) => r.sha256 === body.snapshot.sha256);
    expect(upload?.path).toBe(`/up/${encodeURIComponent(body.snapshot.key)}`);
    expect(upload?.contentType).toBe('image/jpeg');
    expect(upload?.body.length).toBe(body.snapshot.size);
    expect(await jpegSize(upload?.body ?? Buffer.alloc(0))).toBe(
      `mjpeg,${SMALL_STREAMS.main.width},${SMALL_STREAMS.main.height}`,
    );
    const end = await observer.waitFor(
      (m) => m.topic.endsWith('/evt/motion') && m.json().phase === 'end',
      'motion end',
      30000,
    );
    expect(end.json()).toMatchObject({ alarmId: body.alarmId, picture: true, snapshot: body.snapshot });
    expect(end.json<{ durationMs: number }>().durationMs).toBeGreaterThan(0);
    // The event clip: pre-roll plus the alarm, as MP4, uploaded like the picture.
    const clip = end.json<{ clip: { key: string; sha256: string } }>().clip;
    expect(clip.key).toBe(`clips/${body.alarmId}.mp4`);
    await sink.until(() => sink.received.some((r) => r.sha256 === clip.sha256), 'the clip upload');
    const clipBody = sink.received.find((r) => r.sha256 === clip.sha256)?.body ?? Buffer.alloc(0);
    expect(await probe(clipBody, 'mov,mp4,m4a,3gp,3g2,mj2')).toBe(
      `h264,${SMALL_STREAMS.main.width},${SMALL_STREAMS.main.height}`,
    );

    // On demand, through the `snapshot` command.
    const answer = await observer.request(`cam/v1/${cam.device.serial}/cmd/snapshot`, {});
    expect(answer).toMatchObject({
      ok: true,
      result: { width: SMALL_STREAMS.main.width, height: SMALL_STREAMS.main.height },
    });
    const { key, sha256 } = answer.result as { key: string; sha256: string };
    expect(await snapshotsOn(cam)).toContain(key.split('/')[1]);
    await sink.until(() => sink.received.some((r) => r.sha256 === sha256), 'the on-demand upload');
  });

  it('takes no picture at all while alarm pictures are off, but still reports the motion', async () => {
    const before = await snapshotsOn(cam);
    const uploadsBefore = sink.received.length;
    await desire({ alarmNotifications: false });
    // A new encoder start makes the object cross again.
    const next = observer.next(motionStart, 'motion start without picture', 40000);
    await desire({ stream: { main: { ...SMALL_STREAMS.main, bitrateKbps: 500 } } });
    const event = (await next).json();
    expect(event).not.toHaveProperty('snapshot');
    expect(event).toMatchObject({ picture: false, notify: true });
    expect(await snapshotsOn(cam)).toEqual(before);
    expect(sink.received.length).toBe(uploadsBefore);
    await desire({ alarmNotifications: true });
  });

  it('stops capture and analysis in privacy mode and refuses snapshots', async () => {
    await desire({ privacyMode: true });
    await cam.daemon.waitForLog('privacy mode on: capture stopped');
    const before = await snapshotsOn(cam);
    const answer = await observer.request(`cam/v1/${cam.device.serial}/cmd/snapshot`, {});
    expect(answer).toMatchObject({ ok: false, error: { code: 'privacy_mode' } });
    expect(await snapshotsOn(cam)).toEqual(before);
    // The capture ffmpeg is gone: nothing is recorded or analysed.
    const pidLine =
      cam.daemon.stdout.lines
        .filter(
          (l) => l.includes('"msg":"child process running"') && l.includes('"process":"ffmpeg-capture"'),
        )
        .at(-1) ?? '{}';
    const pid = (JSON.parse(pidLine) as { pid: number }).pid;
    // That very process exited on request (an earlier capture's exit line would not do: privacy mode is
    // logged before its ffmpeg has quit).
    await cam.daemon.stdout.waitFor(
      (l) =>
        l.includes('"msg":"child process exited"') &&
        l.includes('"process":"ffmpeg-capture"') &&
        l.includes(`"pid":${pid},`) &&
        l.includes('"level":20'),
      `ffmpeg ${pid} stopped`,
    );
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });
});
