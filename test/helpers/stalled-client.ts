import { type ChildProcess, spawn } from 'node:child_process';
import { LineLog } from './lines.js';
import type { RtspCredentials } from './rtsp-digest.js';

// A client whose receive window is tiny and which stops reading after PLAY. Python, because Node
// cannot set SO_RCVBUF before connecting, and without it the kernel would absorb megabytes first.
// It authenticates as live555 does (Digest without qop: one nonce for every request).
const SCRIPT = `
import hashlib, re, socket, sys, time
port, url, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
md5 = lambda text: hashlib.md5(text.encode()).hexdigest()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.connect(("127.0.0.1", port))
def ask(text):
    s.sendall(text.encode())
    data = b""
    while b"\\r\\n\\r\\n" not in data:
        data += s.recv(1)
    return data.decode('latin1')
setup = "SETUP %s/trackID=0 RTSP/1.0\\r\\nCSeq: %d\\r\\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\\r\\n%s\\r\\n"
challenge = ask(setup % (url, 1, ""))
realm = re.search(r'realm="([^"]*)"', challenge).group(1)
nonce = re.search(r'nonce="([^"]*)"', challenge).group(1)
def auth(method, uri):
    response = md5("%s:%s:%s" % (md5("%s:%s:%s" % (user, realm, password)), nonce, md5("%s:%s" % (method, uri))))
    return 'Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s"\\r\\n' % (user, realm, nonce, uri, response)
r = ask(setup % (url, 2, auth("SETUP", url + "/trackID=0")))
session = [l for l in r.split("\\r\\n") if l.lower().startswith("session:")][0].split(":", 1)[1].split(";")[0].strip()
ask("PLAY %s RTSP/1.0\\r\\nCSeq: 3\\r\\nSession: %s\\r\\n%s\\r\\n" % (url, session, auth("PLAY", url)))
print("stalled", flush=True)
time.sleep(120)
`;

export class StalledClient {
  readonly out = new LineLog();
  readonly child: ChildProcess;

  /** `url` without credentials; the client answers the server's Digest challenge with `credentials`. */
  constructor(port: number, url: string, credentials: RtspCredentials) {
    this.child = spawn(
      'python3',
      ['-c', SCRIPT, String(port), url, credentials.username, credentials.password],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.out.attach(this.child.stdout);
  }

  stalled(): Promise<string> {
    return this.out.waitFor((l) => l === 'stalled', 'the client to play and stall');
  }

  stop(): void {
    this.child.kill();
  }
}
