import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, prepareDevice } from '../helpers/daemon.js';
import { LineLog } from '../helpers/lines.js';
import { Mosquitto } from '../helpers/mosquitto.js';

// Stands in for systemd's notification socket: a unix datagram socket, which Node itself cannot open.
const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    data = s.recv(4096).decode()
    print(data.replace("\\n", "|"), flush=True)
`;

describe('systemd notification', () => {
  let broker: Mosquitto;
  let listener: ChildProcess;
  const messages = new LineLog();
  let socketPath: string;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    socketPath = join(await mkdtemp(join(tmpdir(), 'notify-')), 'notify.sock');
    listener = spawn('python3', ['-c', LISTENER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    messages.attach(listener.stdout);
    await messages.waitFor((l) => l === 'listening', 'notify socket');
  });
  afterAll(async () => {
    listener.kill();
    await broker.stop();
  });

  it('sends READY once started and WATCHDOG pings, naming its own pid', async () => {
    const device = await prepareDevice({ url: broker.url }, { memory: { unmapFilePagesAfterSeconds: 1 } });
    const daemon = DaemonProcess.run(device.configPath, {
      NOTIFY_SOCKET: socketPath,
      WATCHDOG_USEC: '1000000',
    });
    const ready = await messages.waitFor((l) => l.includes('READY=1'), 'READY=1');
    expect(ready).toContain(`MAINPID=${daemon.child.pid}`);
    expect(daemon.stdout.lines.some((l) => l.includes('"msg":"agent started"'))).toBe(true);
    // The daemon gives freed C heap back to the kernel (src/core/free-memory.c, glibc here).
    expect(daemon.stdout.lines.some((l) => l.includes('"msg":"returning freed memory to the system"'))).toBe(
      true,
    );
    await messages.waitFor((l) => l.includes('WATCHDOG=1'), 'WATCHDOG=1');
    // And unmaps the executable's pages it used only while starting (config `memory`).
    const unmapped = await daemon.waitForLog('unmapped the file pages used while starting');
    expect((JSON.parse(unmapped) as { mb: number }).mb).toBeGreaterThan(10);
    await daemon.kill('SIGTERM');
    await messages.waitFor((l) => l.includes('STOPPING=1'), 'STOPPING=1');
  });
});
