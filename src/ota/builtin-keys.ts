import type { TrustedKeyConfig } from './config.js';

/**
 * Release keys compiled into this firmware. A camera maker lists its public keys here (or in the
 * read-only `ota.trustedKeys` of the image's config) at build time; the private keys never leave the
 * release machine. Empty in the open-source build: the simulator trusts its own generated key.
 */
export const BUILTIN_RELEASE_KEYS: readonly TrustedKeyConfig[] = [];
