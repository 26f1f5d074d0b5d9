import type { KeyObject } from 'node:crypto';
import { type ArtifactFormat, type JobDocument, parseDocument } from './document.js';
import { OtaError } from './errors.js';
import { verifyDocument } from './signature.js';

export interface AcceptContext {
  model: string;
  runningVersionCode: number;
  floorVersionCode: number;
  format: ArtifactFormat;
  keys: ReadonlyMap<string, KeyObject>;
}

/**
 * Everything checked before a byte is downloaded, in an order that gives the most useful reason: the
 * signature comes first because nothing else in an unsigned document can be believed.
 */
export function acceptDocument(raw: unknown, ctx: AcceptContext): JobDocument {
  const document = parseDocument(raw);
  verifyDocument(document, ctx.keys);
  if (document.op !== 'firmware') throw new OtaError('unsupported_op', `op ${document.op} is not firmware`);
  if (document.model !== ctx.model) {
    throw new OtaError('wrong_model', `firmware is for ${document.model}, this camera is ${ctx.model}`);
  }
  if (document.versionCode <= ctx.runningVersionCode) {
    throw new OtaError(
      'version_not_newer',
      `versionCode ${document.versionCode} is not newer than the running ${ctx.runningVersionCode}`,
    );
  }
  if (document.versionCode < ctx.floorVersionCode) {
    throw new OtaError(
      'below_floor',
      `versionCode ${document.versionCode} is below the floor ${ctx.floorVersionCode}`,
    );
  }
  if (document.artifact.format !== ctx.format) {
    throw new OtaError(
      'unsupported_format',
      `this camera installs ${ctx.format} images, not ${document.artifact.format}`,
    );
  }
  let url: URL;
  try {
    url = new URL(document.artifact.url);
  } catch {
    throw new OtaError('invalid_document', 'artifact.url is not a URL');
  }
  if (url.protocol !== 'https:') throw new OtaError('insecure_url', 'artifact.url must be https');
  return document;
}
