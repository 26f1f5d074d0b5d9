/**
 * dnsmasq.conf for the provisioning SoftAP: DHCP for the phone, and a DNS that answers every name
 * with the gateway, so the phone's captive-portal check lands on the camera. Pure.
 */
export interface DnsmasqSettings {
  iface: string;
  /** Where dnsmasq keeps its leases and pid file: the AP's private runtime directory. */
  runtimeDir: string;
  gateway?: string;
  dhcpStart?: string;
  dhcpEnd?: string;
  netmask?: string;
  leaseTime?: string;
}

export const AP_GATEWAY = '192.168.4.1';
export const AP_PREFIX = 24;

export function dnsmasqConf(s: DnsmasqSettings): string {
  const gateway = s.gateway ?? AP_GATEWAY;
  for (const [name, value] of Object.entries({ gateway, runtimeDir: s.runtimeDir, iface: s.iface })) {
    if (/[\s#"]/.test(value)) throw new Error(`${name} must not contain spaces, quotes or #`);
  }
  return `${[
    `interface=${s.iface}`,
    // dnsmasq adds loopback to `interface=` on its own: keep off it, the camera may run a resolver there.
    'except-interface=lo',
    'bind-interfaces',
    `listen-address=${gateway}`,
    'no-resolv',
    'no-hosts',
    `address=/#/${gateway}`,
    `dhcp-range=${s.dhcpStart ?? '192.168.4.10'},${s.dhcpEnd ?? '192.168.4.100'},${s.netmask ?? '255.255.255.0'},${s.leaseTime ?? '5m'}`,
    `dhcp-option=option:router,${gateway}`,
    `dhcp-option=option:dns-server,${gateway}`,
    // RFC 8910 captive-portal URI: phones that read it open the page without probing.
    `dhcp-option=114,"http://${gateway}/"`,
    'dhcp-authoritative',
    `dhcp-leasefile=${s.runtimeDir}/dnsmasq.leases`,
    `pid-file=${s.runtimeDir}/dnsmasq.pid`,
    'log-facility=-',
  ].join('\n')}\n`;
}
