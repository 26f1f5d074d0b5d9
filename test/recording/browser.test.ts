import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { record, recordWithG711 } from './feed.js';

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
    const g711Dir = join(dir.path, 'g711');
    await mkdir(g711Dir);
    const withG711 = await recordWithG711(g711Dir, 4, 3000);
    const g711 = await readFile(join(g711Dir, 'card', 'DEV', withG711.closed[0]?.path ?? ''));
    server = createServer((req, res) => {
      const body = req.url === '/g711.mp4' ? g711 : file;
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': body.length });
      res.end(body);
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

  it('plays a segment with G.711 sound to its end, decoding the sound as it does AAC', async () => {
    const page = await browser.newPage();
    await page.goto(url.replace('/segment.mp4', '/'));
    const decoded = await page.evaluate(
      async (sources) => {
        const play = (src: string) =>
          new Promise<string | number>((resolve) => {
            const video = document.createElement('video') as HTMLVideoElement & {
              webkitAudioDecodedByteCount: number;
            };
            video.muted = true;
            video.addEventListener('ended', () => resolve(video.webkitAudioDecodedByteCount), { once: true });
            video.addEventListener('error', () => resolve(`error ${video.error?.message}`), { once: true });
            document.body.append(video);
            video.src = src;
            void video.play();
          });
        return { aac: await play(sources.aac), g711: await play(sources.g711) };
      },
      { aac: url, g711: url.replace('/segment.mp4', '/g711.mp4') },
    );
    expect(decoded.aac).toBeGreaterThan(0);
    expect(decoded.g711).toBeGreaterThan(0);
    await page.close();
  });
});
