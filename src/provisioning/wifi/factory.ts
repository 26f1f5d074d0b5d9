import type { Logger } from '../../core/logger.js';
import type { WifiConfig } from './config.js';
import { NmcliBackend } from './nmcli.js';
import { SimWifiBackend } from './sim.js';
import type { WifiBackend } from './types.js';
import { WpaCliBackend } from './wpa-cli.js';

/** The backend the config names. `runtimeDir` must be private to the daemon (0700). */
export function createWifiBackend(
  config: WifiConfig,
  deps: { log: Logger; runtimeDir: string },
): WifiBackend {
  switch (config.backend) {
    case 'nmcli':
      return new NmcliBackend({
        iface: config.iface,
        runtimeDir: deps.runtimeDir,
        log: deps.log,
        connectTimeoutSeconds: config.connectTimeoutSeconds,
      });
    case 'wpa_cli':
      return new WpaCliBackend({
        iface: config.iface,
        log: deps.log,
        ctrlDir: config.wpaCtrlDir,
        connectTimeoutMs: config.connectTimeoutSeconds * 1000,
        dhcpTimeoutMs: config.dhcpTimeoutSeconds * 1000,
      });
    case 'sim':
      return new SimWifiBackend(config.sim.networks);
  }
}
