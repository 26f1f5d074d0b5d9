// Fixes to werift 0.24 that the daemon's bundle carries (scripts/build.mjs applies them to werift's ESM
// build as esbuild loads it). Each names the exact text it replaces and fails the build when that text is
// not there once, so a werift upgrade cannot drop a fix silently (docs/webrtc.md, "werift patches").

/** @type {{ name: string, find: string, replace: string }[]} */
export const WERIFT_PATCHES = [
  {
    // The DTLS client (the camera: the answerer is ICE-controlled, so werift makes it the client) resends
    // its ClientHello after 0.5 s without a HelloVerifyRequest. When the first one was only late (a
    // mobile network, a busy camera), the server answers both, and werift threw on the second: the
    // handshake failed and the live view with it. A repeated HelloVerifyRequest needs nothing: the
    // ClientHello with the cookie is already out and is itself resent until the server answers.
    name: 'DTLS client: a repeated HelloVerifyRequest is ignored, not thrown on',
    find: 'if (this.dtls.flight === 3) throw new Error();',
    replace: 'if (this.dtls.flight >= 3) return;',
  },
];

/** werift's ESM build with every patch applied; throws when one does not match exactly once. */
export function patchWerift(source) {
  let out = source;
  for (const patch of WERIFT_PATCHES) {
    const count = out.split(patch.find).length - 1;
    if (count !== 1) throw new Error(`werift patch "${patch.name}": found ${count} times, expected once`);
    out = out.replace(patch.find, patch.replace);
  }
  return out;
}

/**
 * What the bundle gives werift for @peculiar/x509, which werift uses only to make a self-signed DTLS
 * certificate when it is given none. The daemon always gives one (src/webrtc/dtls-certificate.ts), and
 * @peculiar/x509 with its ASN.1 libraries cost 6 MB RSS once loaded (docs/deployment.md). Were werift
 * ever to call it, the stub says so instead of making a certificate.
 */
export const PECULIAR_X509_STUB = `
const unused = () => {
  throw new Error('werift asked @peculiar/x509 for a certificate: the daemon must pass its own (src/webrtc/dtls-certificate.ts)');
};
export const cryptoProvider = { set() {} };
export const X509CertificateGenerator = { createSelfSigned: unused };
export const PemConverter = { encode: unused };
`;
