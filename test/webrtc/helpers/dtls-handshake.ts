// The DTLS handshake of werift's own client and server over an in-memory link whose server-to-client
// direction is slow (each packet `delayMs` late): a mobile network, or a camera's busy event loop.
export type Werift = typeof import('werift');
interface Link {
  type: string;
  address: object;
  closed: boolean;
  onData: (data: Buffer, addr: object) => void;
  send: (data: Buffer) => Promise<void>;
  close: () => Promise<void>;
}

/** A certificate and key as werift's DTLS takes them; `weriftIdentity` makes them with werift's own code. */
export type Identity = (w: Werift) => Promise<{ certPem: string; keyPem: string; signatureHash: object }>;

export const weriftIdentity: Identity = (w) =>
  w.CipherContext.createSelfSignedCertificateWithKey(
    { signature: w.SignatureAlgorithm.ecdsa_3, hash: w.HashAlgorithm.sha256_4 },
    w.NamedCurveAlgorithm.secp256r1_23,
  );

export async function handshake(w: Werift, delayMs: number, makeIdentity = weriftIdentity): Promise<string> {
  const { DtlsClient, DtlsServer } = w;
  const identity = async () => {
    const made = await makeIdentity(w);
    return { cert: made.certPem, key: made.keyPem, signatureHash: made.signatureHash as never };
  };
  const link = (): Link => ({
    type: 'memory',
    address: {},
    closed: false,
    onData: () => undefined,
    send: async () => undefined,
    close: async () => undefined,
  });
  // What the client sends reaches the server at once; what the server sends reaches the client late.
  const clientSide = link();
  const serverSide = link();
  clientSide.send = async (data) => void setImmediate(() => serverSide.onData(data, {}));
  serverSide.send = async (data) => void setTimeout(() => clientSide.onData(data, {}), delayMs);
  const server = new DtlsServer({
    ...(await identity()),
    transport: serverSide as never,
    certificateRequest: true,
    extendedMasterSecret: true,
  });
  const client = new DtlsClient({
    ...(await identity()),
    transport: clientSide as never,
    extendedMasterSecret: true,
  });
  try {
    return await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('no handshake in 10 s'), 10_000);
      const done = (what: string) => {
        clearTimeout(timer);
        resolve(what);
      };
      client.onConnect.once(() => done('connected'));
      client.onError.once((err: unknown) => done(`client failed: ${String(err)}`));
      server.onError.once((err: unknown) => done(`server failed: ${String(err)}`));
      client.connect().catch((err: unknown) => done(`client failed: ${String(err)}`));
    });
  } finally {
    client.close();
    server.close();
  }
}
