import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Static, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { OtaError } from '../errors.js';

/** `manifest.json` at the root of a `tar` image: which firmware the slot holds. */
export const SlotManifest = T.Object({
  version: T.String({ minLength: 1, maxLength: 64 }),
  versionCode: T.Integer({ minimum: 0 }),
});
export type SlotManifest = Static<typeof SlotManifest>;

/** undefined when the slot has no manifest (the factory slot); throws when it has a bad one. */
export async function readManifest(slotDir: string): Promise<SlotManifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(slotDir, 'manifest.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new OtaError('bad_image', 'manifest.json is not JSON');
  }
  if (!Value.Check(SlotManifest, value))
    throw new OtaError('bad_image', 'manifest.json lacks version/versionCode');
  return value;
}
