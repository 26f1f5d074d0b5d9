/// <reference lib="dom" />
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from '../helpers/daemon.js';
import { SMALL_STREAMS } from '../helpers/media.js';

describe('the console in a real browser', () => {
  let sim: DaemonProcess;
  let browser: Browser;
  let consoleUrl: string;

  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sim-browser-'));
    // Small streams: a 1080p encode would take most of CI's two cores.
    await writeFile(
      join(dataDir, 'state.json'),
      // A 5 s cooldown: with the default 30 s the simulator's 30 s crossings alarm only every other time.
      JSON.stringify({
        schemaVersion: 1,
        desiredVersion: 0,
        settings: { stream: SMALL_STREAMS, motion: { cooldownSeconds: 5 } },
      }),
    );
    sim = new DaemonProcess([
      'sim',
      '--data-dir',
      dataDir,
      '--broker-port',
      '0',
      '--ws-port',
      '0',
      '--console-port',
      '0',
      '--rtsp-port',
      '0',
    ]);
    consoleUrl = await sim.banner('console');
    await sim.waitForLog('agent started');
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // A fake microphone (a beep) and no permission prompt, for push-to-talk.
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await sim?.kill();
  });

  it('plays the live view at the main size and push-to-talk reaches the camera speaker', async () => {
    const page = await browser.newPage();
    await page.goto(consoleUrl);
    await page.waitForFunction(() => (window as unknown as { consoleReady?: boolean }).consoleReady === true);
    await page.waitForSelector('#status.status-online');
    await page.click('#live');
    await page.waitForFunction(
      () => (document.getElementById('video') as HTMLVideoElement).videoWidth > 0,
      undefined,
      { timeout: 20000 },
    );
    const size = await page.evaluate(() => {
      const video = document.getElementById('video') as HTMLVideoElement;
      return { width: video.videoWidth, height: video.videoHeight, t: video.currentTime };
    });
    expect(size).toMatchObject({ width: SMALL_STREAMS.main.width, height: SMALL_STREAMS.main.height });
    // Frames advance: the playback clock moves on.
    await page.waitForFunction(
      (t0) => (document.getElementById('video') as HTMLVideoElement).currentTime > t0 + 1,
      size.t,
      { timeout: 20000 },
    );

    await page.waitForSelector('#talk:not([disabled])');
    // Before the button is held the microphone track is disabled: silence, if anything, reaches the speaker.
    const audible = (line: string) =>
      line.includes('"msg":"talk-back audio played"') && JSON.parse(line).levelDbfs > -40;
    expect(sim.stdout.lines.some(audible)).toBe(false);
    await page.hover('#talk');
    await page.mouse.down();
    const record = JSON.parse(await sim.stdout.waitFor(audible, 'audible talk-back', 20000));
    await page.mouse.up();
    expect(record.bytes).toBeGreaterThanOrEqual(8000);

    // The simulator's object raises an alarm on its own; its picture shows in the event list.
    // Events are not retained: if the page subscribed after this crossing, the next comes 30 s later;
    // two cycles leave room for one crossing missed on a loaded machine.
    await page.waitForSelector('#events li img', { timeout: 70000 });
    const picture = await page.evaluate(() => {
      const img = document.querySelector('#events li img') as HTMLImageElement;
      return new Promise<{ width: number; height: number }>((resolve) => {
        const done = () => resolve({ width: img.naturalWidth, height: img.naturalHeight });
        if (img.complete) done();
        else img.addEventListener('load', done, { once: true });
      });
    });
    expect(picture).toEqual({ width: SMALL_STREAMS.main.width, height: SMALL_STREAMS.main.height });
    await page.close();
  }, 180_000);
});
