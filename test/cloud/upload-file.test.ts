import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putObject } from '../../src/cloud/upload.js';
import { captureLog, useTempDir } from '../core/fixtures.js';
import { HttpsSink } from '../helpers/https-sink.js';
import { makePki, type Pki } from '../helpers/pki.js';

describe('uploading a stored file as it is read', () => {
  const tempDir = useTempDir('upload-file');
  let pki: Pki;
  let sink: HttpsSink;

  beforeAll(async () => {
    pki = await makePki('device');
    sink = new HttpsSink();
    await sink.start(pki);
  });
  afterAll(async () => {
    await sink.stop();
  });

  it('sends the whole file again on the attempt after a refused one', async () => {
    const path = join(await tempDir(), 'clip.mp4');
    const content = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(path, content);
    const { log, records } = captureLog();
    sink.failNext = 1;
    await putObject(
      `https://127.0.0.1:${sink.port}/up/clip.mp4`,
      { path, size: content.length },
      'video/mp4',
      {
        ca: await readFile(pki.caCert),
        attempts: 3,
        timeoutMs: 15000,
        log,
      },
    );
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]?.body.equals(content)).toBe(true);
    expect(sink.received[0]?.contentType).toBe('video/mp4');
    expect(records().filter((r) => r.msg === 'upload failed')).toHaveLength(1);
  });

  it('fails, after its attempts, for a file that cannot be read', async () => {
    const path = join(await tempDir(), 'gone.mp4');
    const before = sink.received.length;
    const { log } = captureLog();
    await expect(
      putObject(`https://127.0.0.1:${sink.port}/up/gone.mp4`, { path, size: 10 }, 'video/mp4', {
        ca: await readFile(pki.caCert),
        attempts: 2,
        timeoutMs: 15000,
        log,
      }),
    ).rejects.toThrow(/upload failed after 2 attempts: .*ENOENT/);
    expect(sink.received.length).toBe(before);
  });
});
