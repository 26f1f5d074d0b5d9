import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { record } from './feed.js';

// A segment as written to the card, opened by a browser's <video> on its own (issue 12: "playable
// ... by a browser's <video>"), served as a plain file.
describe("a recorded segment in Chromium's <video>", () => {
  let dir: TempDir;
  let server: Server;
  let browser: Browser;
  let url = '';

  beforeAll(async () => {
    dir = await tempDir();
    const { closed } = await record(dir.path, 7, 3000);
    const file = await readFile(join(dir.path, 'card', 'DEV', closed[1]?.path ?? ''));
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': file.length });
      res.end(file);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/segment.mp4`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await dir?.remove();
  });

  it('loads, plays to its end and seeks', async () => {
    const page = await browser.newPage();
    await page.goto(url.replace('/segment.mp4', '/'));
    const outcome = await page.evaluate(async (src) => {
      const video = document.createElement('video');
      video.muted = true;
      document.body.append(video);
      const once = (event: string) =>
        new Promise<string>((resolve) => {
          video.addEventListener(event, () => resolve(event), { once: true });
          video.addEventListener(
            'error',
            () => resolve(`error ${video.error?.code} ${video.error?.message}`),
            {
              once: true,
            },
          );
        });
      const loaded = once('loadeddata');
      video.src = src;
      const first = await loaded;
      const info = { first, duration: video.duration, width: video.videoWidth, height: video.videoHeight };
      const seeked = once('seeked');
      video.currentTime = video.duration - 0.5;
      const second = await seeked;
      const ended = once('ended');
      await video.play();
      return { ...info, second, third: await ended };
    }, url);
    expect(outcome).toMatchObject({
      first: 'loadeddata',
      second: 'seeked',
      third: 'ended',
      width: 640,
      height: 360,
    });
    expect(outcome.duration).toBeGreaterThan(2.9);
    await page.close();
  });
});
