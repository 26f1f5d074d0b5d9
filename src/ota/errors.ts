/**
 * Reason codes of REJECTED and FAILED job reports (docs/ota.md lists them). They are stable: the
 * cloud matches on them, never on the message.
 */
export type OtaReason =
  | 'bad_request'
  | 'invalid_document'
  | 'unsupported_op'
  | 'unsupported_signature_alg'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_model'
  | 'version_not_newer'
  | 'below_floor'
  | 'unsupported_format'
  | 'insecure_url'
  | 'insufficient_space'
  | 'busy'
  | 'download_failed'
  | 'tls_untrusted'
  | 'size_mismatch'
  | 'sha256_mismatch'
  | 'bad_image'
  | 'manifest_mismatch'
  | 'install_failed'
  | 'rolled_back'
  | 'rollback_failed'
  | 'internal';

export class OtaError extends Error {
  readonly reason: OtaReason;

  constructor(reason: OtaReason, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OtaError';
    this.reason = reason;
  }
}

export function reasonOf(err: unknown): OtaReason {
  return err instanceof OtaError ? err.reason : 'internal';
}
