import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { SecretValues } from '../../src/core/redact.js';
import { canonicalJson } from '../../src/ota/canonical.js';
import { bootAbSlot, readBoot, writeBoot } from '../../src/ota/installers/ab-boot.js';
import { fingerprint } from '../../src/ota/keys.js';
import { resumeAction } from '../../src/ota/resume.js';
import { signDocument, verifyDocument } from '../../src/ota/signature.js';
import type { JobRecord } from '../../src/ota/state.js';
import { versionCodeOf } from '../../src/ota/version.js';

const log = createLogger({ level: 'fatal', secrets: new SecretValues() });

describe('canonical form and signatures', () => {
  it('sorts keys recursively and drops whitespace, as RFC 8785 does for these values', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 'é', y: null }], c: 'x"y' } })).toBe(
      '{"a":{"c":"x\\"y","d":[3,{"y":null,"z":"é"}]},"b":1}',
    );
  });

  it('verifies a document whatever its key order, and refuses any change', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyId = fingerprint(publicKey);
    const signed = signDocument(
      {
        op: 'firmware',
        model: 'M',
        version: '1.5.0',
        versionCode: 10500,
        artifact: { url: 'https://x/y', size: 1, sha256: 'a'.repeat(64), format: 'tar' as const },
      },
      privateKey,
      keyId,
    );
    const keys = new Map([[keyId, publicKey]]);
    const { signature, artifact, ...rest } = signed;
    const reordered = JSON.parse(JSON.stringify({ signature, artifact, ...rest }));
    expect(() => verifyDocument(reordered, keys)).not.toThrow();
    expect(() => verifyDocument({ ...signed, versionCode: 10501 }, keys)).toThrow(/does not match/);
  });

  it('derives the contract example versionCode from a version', () => {
    expect(versionCodeOf('1.5.0')).toBe(10500);
    expect(versionCodeOf('0.1.0')).toBe(100);
  });
});

describe('the A/B boot step', () => {
  const factory = { version: '1.4.2', versionCode: 10402 };

  it('boots a trial slot as many times as allowed, then falls back to the primary', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ab-'));
    await mkdir(join(root, 'b'));
    await writeFile(
      join(root, 'b', 'manifest.json'),
      JSON.stringify({ version: '1.5.0', versionCode: 10500 }),
    );
    expect(await bootAbSlot(root, factory, log)).toMatchObject({ version: '1.4.2', slot: 'a' });
    await writeBoot(root, {
      schemaVersion: 1,
      primary: 'a',
      booted: 'a',
      trial: { slot: 'b', triesLeft: 2 },
    });
    expect(await bootAbSlot(root, factory, log)).toMatchObject({
      version: '1.5.0',
      slot: 'b',
      fellBack: undefined,
    });
    expect(await bootAbSlot(root, factory, log)).toMatchObject({ version: '1.5.0', slot: 'b' });
    expect(await bootAbSlot(root, factory, log)).toMatchObject({
      version: '1.4.2',
      slot: 'a',
      fellBack: { slot: 'b', reason: 'boot_attempts_exhausted' },
    });
    expect((await readBoot(root)).trial).toBeUndefined();
  });

  it('falls back at once from a trial slot without a manifest', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ab-'));
    await writeBoot(root, {
      schemaVersion: 1,
      primary: 'a',
      booted: 'a',
      trial: { slot: 'b', triesLeft: 3 },
    });
    expect(await bootAbSlot(root, factory, log)).toMatchObject({
      slot: 'a',
      fellBack: { reason: 'bad_manifest' },
    });
  });
});

describe('what a job found at start-up means', () => {
  const job = (phase: JobRecord['phase'], bootId?: string, rollbackAttempts?: number): JobRecord => ({
    jobId: 'j',
    document: {},
    phase,
    from: { version: '1.4.2', versionCode: 10402 },
    acceptedAt: 0,
    ...(bootId ? { bootId } : {}),
    ...(rollbackAttempts ? { rollbackAttempts } : {}),
  });
  const running = (versionCode: number, bootId = 'boot-2') => ({
    version: '',
    versionCode,
    slot: undefined,
    fellBack: undefined,
    bootId,
  });

  it.each([
    ['downloading', 10402, undefined, 'continue'],
    ['installing', 10402, undefined, 'continue'],
    ['installing', 10500, undefined, 'confirm'],
    ['rebooting', 10500, 'boot-1', 'confirm'],
    ['rebooting', 10402, 'boot-2', 'reboot'],
    ['rebooting', 10402, 'boot-1', 'rolled-back'],
    ['confirming', 10402, 'boot-1', 'rolled-back'],
    ['rolling_back', 10402, 'boot-1', 'rolled-back'],
    ['rolling_back', 10500, 'boot-2', 'reboot'],
    ['rolling_back', 10500, 'boot-1', 'mark-bad-again', 1],
    ['rolling_back', 10500, 'boot-1', 'rollback-failed', 3],
  ] as const)('%s, running %i, asked in %s -> %s', (phase, versionCode, bootId, kind, attempts?: number) => {
    expect(resumeAction(job(phase, bootId, attempts), 10500, running(versionCode)).kind).toBe(kind);
  });
});
