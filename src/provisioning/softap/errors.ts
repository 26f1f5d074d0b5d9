/**
 * A request the protocol refuses. `status` is the HTTP status the transport answers with (Espressif's
 * HTTP transport just drops the connection; any non-200 is a failure to its clients), `reason` a
 * stable code for logs and for the plain-text body.
 */
export type ProtocommReason =
  | 'bad_request'
  | 'bad_public_key'
  | 'out_of_sequence'
  | 'proof_failed'
  | 'locked_out'
  | 'rate_limited'
  | 'wrong_client'
  | 'busy'
  | 'no_session'
  | 'session_expired'
  | 'decrypt_failed'
  | 'unknown_endpoint'
  | 'internal';

const STATUS: Record<ProtocommReason, number> = {
  bad_request: 400,
  bad_public_key: 400,
  out_of_sequence: 400,
  decrypt_failed: 400,
  proof_failed: 401,
  no_session: 403,
  wrong_client: 403,
  session_expired: 403,
  unknown_endpoint: 404,
  locked_out: 429,
  rate_limited: 429,
  internal: 500,
  busy: 503,
};

export class ProtocommError extends Error {
  readonly reason: ProtocommReason;
  readonly status: number;
  readonly retryAfterMs: number | undefined;

  constructor(reason: ProtocommReason, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'ProtocommError';
    this.reason = reason;
    this.status = STATUS[reason];
    this.retryAfterMs = retryAfterMs;
  }
}
