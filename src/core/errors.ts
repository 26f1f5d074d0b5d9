/**
 * Errors with stable codes: the cloud, the app and the logs match on `code`, never on message text.
 * Codes are snake_case like the contract's (`token_rejected`); the list lives in docs/protocol.md.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'config_unreadable'
  | 'bad_request'
  | 'payload_too_large'
  | 'unknown_command'
  | 'command_failed'
  | 'not_connected'
  | 'store_corrupt'
  | 'aborted'
  | 'timeout'
  | 'privacy_mode'
  | 'busy'
  | 'bad_offer'
  | 'no_h264_stream'
  | 'queue_full'
  | 'not_set_up'
  | 'media_unreadable'
  | 'save_failed'
  | 'storage_unavailable'
  | 'storage_absent'
  | 'format_unavailable'
  | 'format_failed'
  | 'token_missing'
  | 'token_malformed'
  | 'token_bad_signature'
  | 'token_expired'
  | 'token_wrong_device'
  | 'token_no_right'
  | 'token_replayed'
  | 'hardware_unavailable'
  | 'internal';

export class AgentError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.details = options?.details;
  }
}

export function errorCode(err: unknown): ErrorCode {
  return err instanceof AgentError ? err.code : 'internal';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
