import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jsqr from 'jsqr';
import { describe, expect, it } from 'vitest';
import { labelPayload, labelPng } from '../../src/cli/label.js';
import { useTempDir } from '../core/fixtures.js';
import { BIN, ROOT } from '../helpers/daemon.js';

const run = promisify(execFile);

/** Decodes a PNG the way the daemon will read frames: ffmpeg to raw RGBA, then jsQR. */
async function readQr(png: string): Promise<string | undefined> {
  const bytes = await readFile(png);
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', png, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-'],
    {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  // jsqr is CommonJS whose typings declare `export default`: under NodeNext that is `.default`.
  return jsqr.default(
    new Uint8ClampedArray(stdout.buffer, stdout.byteOffset, stdout.byteLength),
    width,
    height,
  )?.data;
}

const IDENTITY = {
  serial: 'CAM0042AB',
  verificationCode: 'K7P2QX',
  mac: '02:00:00:00:1a:2b',
  model: 'IPC-1000',
};

describe('ipcam-agent label', () => {
  const tempDir = useTempDir('label');

  it('builds the contract payload and refuses a model that would break its fields', () => {
    expect(labelPayload(IDENTITY)).toBe('IPC:CAM0042AB;V:K7P2QX;M:IPC-1000;;');
    expect(labelPayload({ ...IDENTITY, model: undefined }, 'X1')).toBe('IPC:CAM0042AB;V:K7P2QX;M:X1;;');
    expect(() => labelPayload({ ...IDENTITY, model: 'A;B' })).toThrow(/must not contain/);
    expect(() => labelPayload({ ...IDENTITY, model: undefined })).toThrow(/--model/);
  });

  it('writes a PNG that jsQR decodes back to the payload', async () => {
    const file = join(await tempDir(), 'label.png');
    await writeFile(file, await labelPng(labelPayload(IDENTITY)));
    expect(await readQr(file)).toBe('IPC:CAM0042AB;V:K7P2QX;M:IPC-1000;;');
  });

  it('prints the payload for an identity file and writes the PNG (through the built CLI)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'identity.json'), JSON.stringify(IDENTITY));
    const out = join(dir, 'out', 'cam.png');
    const { stdout } = await run(
      process.execPath,
      [BIN, 'label', '--identity', join(dir, 'identity.json'), '--out', out],
      {
        cwd: ROOT,
      },
    );
    expect(stdout).toBe('IPC:CAM0042AB;V:K7P2QX;M:IPC-1000;;\n');
    expect(await readQr(out)).toBe(stdout.trim());
  });

  it('uses the simulator’s factory identity by default, the same one `sim` uses', async () => {
    const dir = await tempDir();
    const { stdout } = await run(
      process.execPath,
      [BIN, 'label', '--data-dir', dir, '--out', join(dir, 'label.png')],
      {
        cwd: ROOT,
      },
    );
    const identity = JSON.parse(
      await readFile(join(dir, 'factory', 'identity.json'), 'utf8'),
    ) as typeof IDENTITY;
    expect(stdout.trim()).toBe(`IPC:${identity.serial};V:${identity.verificationCode};M:IPC-SIM;;`);
    expect(await readQr(join(dir, 'label.png'))).toBe(stdout.trim());
  });

  it('fails with one line naming the problem for an invalid identity file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'identity.json'), JSON.stringify({ ...IDENTITY, verificationCode: 'short' }));
    const failed = await run(process.execPath, [BIN, 'label', '--identity', join(dir, 'identity.json')], {
      cwd: ROOT,
    }).catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^ipcam-agent: identity: verificationCode: /),
    });
  });
});
