import { type ChildProcess, spawn } from 'node:child_process';
import { LineLog } from './lines.js';

// A client whose receive window is tiny and which stops reading after PLAY. Python, because Node
// cannot set SO_RCVBUF before connecting, and without it the kernel would absorb megabytes first.
const SCRIPT = `
import socket, sys, time
port, url = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.connect(("127.0.0.1", port))
def ask(text):
    s.sendall(text.encode())
    data = b""
    while b"\\r\\n\\r\\n" not in data:
        data += s.recv(1)
    return data.decode('latin1')
r = ask("SETUP %s/trackID=0 RTSP/1.0\\r\\nCSeq: 1\\r\\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\\r\\n\\r\\n" % url)
session = [l for l in r.split("\\r\\n") if l.lower().startswith("session:")][0].split(":", 1)[1].split(";")[0].strip()
ask("PLAY %s RTSP/1.0\\r\\nCSeq: 2\\r\\nSession: %s\\r\\n\\r\\n" % (url, session))
print("stalled", flush=True)
time.sleep(120)
`;

export class StalledClient {
  readonly out = new LineLog();
  readonly child: ChildProcess;

  constructor(port: number, url: string) {
    this.child = spawn('python3', ['-c', SCRIPT, String(port), url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.out.attach(this.child.stdout);
  }

  stalled(): Promise<string> {
    return this.out.waitFor((l) => l === 'stalled', 'the client to play and stall');
  }

  stop(): void {
    this.child.kill();
  }
}
