import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a build script in plain JavaScript, without types
import { MQTT_PATCHES, patchMqtt } from '../../scripts/mqtt-patches.mjs';
import { useBroker } from '../helpers/broker-fixture.js';
import { modulesWhenOnline } from '../helpers/modules-when-online.js';

const mqttLib = join(dirname(createRequire(import.meta.url).resolve('mqtt')), 'lib');

// mqtt.connect() loaded the WebSocket transport for every URL, and the TCP and TLS transports the SOCKS
// client; the bundle defers both to their use (scripts/mqtt-patches.mjs).
describe('the bundle loads mqtt’s WebSocket and SOCKS code only when used', () => {
  const cloud = useBroker(['cam/v1/#'], { websockets: true });

  it('each patch applies to this mqtt exactly once', async () => {
    for (const patch of MQTT_PATCHES as { file: string; find: string; replace: string }[]) {
      const patched: string = patchMqtt(patch.file, await readFile(join(mqttLib, patch.file), 'utf8'));
      expect(patched).not.toContain(patch.find);
      expect(patched).toContain(patch.replace);
    }
    expect(() => patchMqtt('connect/tls.js', 'no mqtt here')).toThrow(/found 0 times/);
  });

  it('over mqtt:// the daemon goes online without the WebSocket transport (zlib is only its)', async () => {
    const loaded = await modulesWhenOnline(cloud.broker.url, cloud.observer);
    expect(loaded).toContain('NativeModule net');
    expect(loaded).not.toContain('NativeModule zlib');
  });

  it('over ws:// the daemon loads it and goes online', async () => {
    const loaded = await modulesWhenOnline(`ws://127.0.0.1:${cloud.broker.wsPort}/`, cloud.observer);
    expect(loaded).toContain('NativeModule zlib');
  });
});
