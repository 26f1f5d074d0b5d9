import { type Static, Type as T } from '@sinclair/typebox';

const Strict = { additionalProperties: false } as const;

export const IceServer = T.Object(
  {
    urls: T.Union([
      T.String({ pattern: '^(stun|stuns|turn|turns):' }),
      T.Array(T.String({ pattern: '^(stun|stuns|turn|turns):' })),
    ]),
    username: T.Optional(T.String()),
    /** A TURN credential: never logged. */
    credential: T.Optional(T.String()),
  },
  Strict,
);

export const WebrtcConfig = T.Object(
  {
    enabled: T.Boolean({ default: true }),
    /** Past this, an offer is answered with `busy`. */
    maxSessions: T.Integer({ minimum: 1, maximum: 32, default: 4 }),
    /** Empty by default: no public STUN server is contacted unless the maker configures one. */
    iceServers: T.Array(IceServer, { default: [] }),
    /** UDP ports for ICE, e.g. to open them in a firewall. */
    icePortRange: T.Optional(
      T.Tuple([T.Integer({ minimum: 1024, maximum: 65535 }), T.Integer({ minimum: 1024, maximum: 65535 })]),
    ),
    /** The cloud's Ed25519 public keys (PEM or base64 of the 32 raw bytes) that sign viewer tokens. */
    cloudKeys: T.Array(T.String({ minLength: 32 }), { default: [] }),
    /** A session whose ICE is not connected after this is closed. */
    connectTimeoutSeconds: T.Integer({ minimum: 5, maximum: 120, default: 20 }),
    maxSdpBytes: T.Integer({ minimum: 1024, maximum: 262144, default: 65536 }),
    /**
     * Where talk-back is played: ALSA (`default` device when absent), a file (the simulator's speaker),
     * or nowhere. No default object here: TypeBox merges an object default into the given value.
     */
    speaker: T.Optional(
      T.Union([
        T.Object({ kind: T.Literal('alsa'), device: T.String({ minLength: 1 }) }, Strict),
        T.Object({ kind: T.Literal('file'), path: T.String({ minLength: 1 }) }, Strict),
        T.Object({ kind: T.Literal('none') }, Strict),
      ]),
    ),
  },
  { ...Strict, default: {} },
);

export type WebrtcConfig = Static<typeof WebrtcConfig>;
