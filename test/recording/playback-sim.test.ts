import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simDataDir, startSim } from '../hardening/sim-process.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { run, SMALL_STREAMS } from '../helpers/media.js';
import { type ClosedSegment, closedSegments, videoPackets } from './rig.js';

// The wiring end to end: the simulator records to its card folder, and its RTSP server and its
// console (the HTTP download and the signed links) play back what it wrote.
describe('playback from the simulator', () => {
  let dataDir: string;
  let sim: DaemonProcess;
  let segments: ClosedSegment[];
  let consoleUrl: string;
  let rtspPort: number;
  let labelCode: string;
  let deviceId: string;

  beforeAll(async () => {
    dataDir = await simDataDir('playback-sim', { media: true });
    await writeFile(
      join(dataDir, 'state.json'),
      JSON.stringify({
        schemaVersion: 1,
        desiredVersion: 0,
        settings: { stream: SMALL_STREAMS, recording: { mode: 'continuous' }, alarmNotifications: false },
      }),
    );
    await writeFile(
      join(dataDir, 'test-config.json'),
      JSON.stringify({ recording: { segmentSeconds: 5, checkIntervalMs: 300 } }),
    );
    sim = startSim(dataDir, 0, ['--ws-port', '0']);
    deviceId = await sim.banner('device id', 30_000);
    labelCode = await sim.banner('label code');
    consoleUrl = (await sim.banner('console')).replace(/\/$/, '');
    const rtspLine = await sim.stdout.waitFor((l) => l.trim().startsWith('rtsp '), 'banner rtsp', 30_000);
    rtspPort = Number(/:(\d+)\/main/.exec(rtspLine)?.[1]);
    let seen = 0;
    await sim.stdout.waitFor(
      (l) => l.includes('"msg":"recording segment closed"') && ++seen >= 3,
      'three closed segments',
      90_000,
    );
    segments = closedSegments(sim).slice(1, 3);
  }, 120_000);
  afterAll(async () => {
    await sim?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  const card = () => join(dataDir, 'sdcard', deviceId);
  const recordedFrames = async () => {
    let frames = 0;
    for (const s of segments) frames += (await videoPackets(join(card(), s.path))).length;
    return frames;
  };

  it('the console signs a link and serves the range as one MP4 with every recorded frame', async () => {
    const [first, last] = [segments[0], segments.at(-1)];
    if (!first || !last) throw new Error('no segments');
    const query = `start=${new Date(first.start).toISOString()}&end=${new Date(last.end).toISOString()}`;
    const signed = await fetch(`${consoleUrl}/api/recordings/sign?${query}`, { method: 'POST' });
    expect(signed.status).toBe(200);
    const path = await signed.text();
    expect(path).toMatch(/^\/recordings\/download\?start=.*&sig=[0-9a-f]{64}$/);
    expect((await videoPackets(`${consoleUrl}${path}`)).length).toBe(await recordedFrames());
    // Without the signature, Digest with the label code.
    const { stdout } = await run('curl', [
      ...['-s', '-o', '/dev/null', '-w', '%{http_code}', '--digest', '-u', `admin:${labelCode}`],
      `${consoleUrl}/recordings/download?${query}`,
    ]);
    expect(stdout).toBe('200');
    // On a camera the download is served on the HTTP port of the ONVIF device service (80), the same way.
    const onvif = new URL((await sim.banner('onvif')).replace(/\/onvif\/device_service$/, ''));
    const viaOnvif = await run('curl', [
      ...['-s', '-o', '/dev/null', '-w', '%{http_code}', '--digest', '-u', `admin:${labelCode}`],
      `${onvif.origin}/recordings/download?${query}`,
    ]);
    expect(viaOnvif.stdout).toBe('200');
    const refused = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `${onvif.origin}/recordings/download?${query}`,
    ]);
    expect(refused.stdout).toBe('401');
  });

  it('RTSP /playback on the simulator plays the range to its end (ffmpeg)', async () => {
    const [first, last] = [segments[0], segments.at(-1)];
    if (!first || !last) throw new Error('no segments');
    const url = `rtsp://admin:${encodeURIComponent(labelCode)}@127.0.0.1:${rtspPort}/playback?start=${new Date(first.start).toISOString()}&end=${new Date(last.end).toISOString()}`;
    const { stdout } = await run(
      'ffmpeg',
      ['-v', 'error', '-rtsp_transport', 'tcp', '-i', url, '-map', '0:v', '-f', 'framemd5', '-'],
      { timeout: 60_000 },
    );
    const frames = stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    expect(frames).toBe(await recordedFrames());
  });

  it("the console's timeline shows the recorded span; a click plays that moment in a <video> and offers a download (Chromium)", async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${consoleUrl}/`);
      await page.waitForFunction(
        () => (window as unknown as { consoleReady?: boolean }).consoleReady === true,
      );
      await page.click('#rec-load');
      await page.waitForSelector('#timeline .span', { timeout: 15_000 });
      await page.click('#timeline .span');
      const played = await page.waitForFunction(
        () => {
          const v = document.getElementById('playback') as HTMLVideoElement;
          return v.currentTime > 1 ? { width: v.videoWidth, height: v.videoHeight } : undefined;
        },
        undefined,
        { timeout: 30_000 },
      );
      expect(await played.jsonValue()).toEqual({
        width: SMALL_STREAMS.main.width,
        height: SMALL_STREAMS.main.height,
      });
      const href = await page.getAttribute('#rec-download', 'href');
      expect(href).toMatch(/^\/recordings\/download\?start=.*&sig=[0-9a-f]{64}$/);
      expect(await page.isHidden('#rec-download')).toBe(false);
    } finally {
      await browser.close();
    }
  });
});
