import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simDataDir, startSim } from '../hardening/sim-process.js';
import { useBroker } from '../helpers/broker-fixture.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { DEVICE_NS, postSoap, soapEnvelope } from '../helpers/onvif-soap.js';

// The simulator's default ONVIF port (8000) may be another simulator's: it then takes a free one and
// prints it, instead of going without ONVIF.
describe('the simulator when its ONVIF port is taken', () => {
  const fixture = useBroker();
  let holder: Server | undefined;
  let sim: DaemonProcess | undefined;

  afterAll(async () => {
    await sim?.kill();
    await new Promise((resolve) => holder?.close(resolve));
  });

  it('serves ONVIF on a free port and says so', async () => {
    holder = createServer();
    const server = holder;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const taken = typeof address === 'object' && address ? address.port : 0;
    const dataDir = await simDataDir('onvif-port', { media: false });
    // The port the simulator uses when no --onvif-port is given, from its config.
    await writeFile(
      join(dataDir, 'test-config.json'),
      JSON.stringify({ media: { enabled: false }, sim: { onvifPort: taken } }),
    );
    sim = startSim(dataDir, fixture.broker.port);
    const url = await sim.banner('onvif', 30_000);
    const port = Number(new URL(url).port);
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(taken);
    await sim.waitForLog('onvif port taken: listening on a free port instead');
    const reply = await postSoap(url, soapEnvelope(`<GetSystemDateAndTime xmlns="${DEVICE_NS}"/>`));
    expect(reply.status).toBe(200);
  });
  it('serves no ONVIF while the camera is not set up', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise((resolve) => probe.close(resolve));
    const dataDir = await simDataDir('onvif-setup', { media: false });
    const fresh = startSim(dataDir, fixture.broker.port, ['--unprovisioned', '--onvif-port', String(port)]);
    try {
      // The ONVIF module starts before this line: had it listened, its line would come first.
      await fresh.waitForLog('agent started', 30_000);
      expect(fresh.stdout.lines.some((l) => l.includes('onvif server listening'))).toBe(false);
      await expect(
        fetch(`http://127.0.0.1:${port}/onvif/device_service`, { method: 'POST' }),
      ).rejects.toThrow();
    } finally {
      await fresh.kill();
    }
  });
});
