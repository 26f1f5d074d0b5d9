import type { Logger } from '../core/logger.js';
import type { AccessPoint } from './ap/access-point.js';
import type { ProvisioningConfig } from './config.js';
import type { ProvisioningService, SoftApMode } from './service.js';
import type { SoftApServer } from './softap/server.js';
import { softapWifi } from './softap-wifi.js';
import type { WifiBackend } from './wifi/types.js';

export interface SoftApModeDeps {
  config: ProvisioningConfig['softap'];
  identity: { mac: string; verificationCode: string };
  wifi: WifiBackend;
  secrets: { add(value: string): void };
  log: Logger;
  /** Tells where the server listens once up (the simulator prints it). */
  onListening?: (url: string) => void;
}

/**
 * The open `CAM-xxxx` access point (hostapd and dnsmasq) with the ESP-IDF provisioning server on its
 * gateway address; joins and binds go through the provisioning service's state machine.
 */
export function softApModeFactory(deps: SoftApModeDeps): (service: ProvisioningService) => SoftApMode {
  return (service) => {
    const { config, identity, log } = deps;
    let accessPoint: AccessPoint | undefined;
    let server: SoftApServer | undefined;
    return {
      async start() {
        // Loaded when the AP is first needed: SRP, protobuf and hostapd handling stay out of a start-up.
        const [{ AccessPoint }, { softApSsid }, { SoftApServer }] = await Promise.all([
          import('./ap/access-point.js'),
          import('./ap/hostapd-conf.js'),
          import('./softap/server.js'),
        ]);
        accessPoint = config.accessPoint
          ? new AccessPoint({
              iface: config.iface,
              ssid: softApSsid(identity.mac),
              channel: config.channel,
              ...(config.countryCode ? { countryCode: config.countryCode } : {}),
              runtimeDir: config.runtimeDir,
              log,
            })
          : undefined;
        server = new SoftApServer({
          host: config.host,
          port: config.port,
          verificationCode: identity.verificationCode,
          wifi: softapWifi(deps.wifi, (ssid, password) => service.join(ssid, password, 'softap')),
          callbacks: {
            // The backend has saved the network once it was proven; nothing else to keep.
            onCredentials: () => undefined,
            onBindToken: (request) => service.bindFromApp(request),
          },
          secrets: deps.secrets,
          log,
        });
        await accessPoint?.start(new AbortController().signal);
        try {
          await server.start();
        } catch (err) {
          await accessPoint?.stop();
          throw err;
        }
        deps.onListening?.(server.url);
      },
      clearLockouts() {
        server?.clearLockouts();
      },
      async stop() {
        await server?.stop();
        await accessPoint?.stop();
        log.info('SoftAP mode ended');
      },
    };
  };
}
