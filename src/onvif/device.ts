/**
 * The ONVIF device service (ver10 tds) at /onvif/device_service: who the camera is, which services it
 * has and where, its clock, scopes, network interfaces, users (read-only) and reboot.
 */
import { networkInterfaces, hostname as osHostname } from 'node:os';
import { endpointFor } from './discovery-messages.js';
import { type Operation, OperationService } from './operations.js';
import { NAMESPACES, type SoapCall, SoapFault, text, xml } from './soap.js';

export const DEVICE_PATH = '/onvif/device_service';

/** A service GetServices and GetCapabilities list. */
export interface ServiceEntry {
  namespace: string;
  path: string;
  version: { major: number; minor: number };
  /** The service's own <Capabilities> element, for GetServices with IncludeCapability. */
  capabilities?: string;
}

export interface DeviceIdentity {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export interface DeviceServiceDeps {
  identity: () => DeviceIdentity;
  /** The URL of a service path as the client reaches us (its Host, when known). */
  xaddr: (path: string, host?: string) => string;
  /** The services besides this one (media, media2, imaging, events when served). */
  services: () => readonly ServiceEntry[];
  scopes: () => readonly string[];
  /** IANA zone of the owner's setting `timezone`. */
  timezone: () => string;
  username: () => string;
  reboot: () => void;
  now?: () => Date;
}

/** PRE_AUTH in the ONVIF Core spec (5.9.4.3): answered without credentials. */
const ANONYMOUS = new Set([
  'GetSystemDateAndTime',
  'GetWsdlUrl',
  'GetServices',
  'GetServiceCapabilities',
  'GetEndpointReference',
]);

export const DEVICE_VERSION = { major: 2, minor: 60 };

export class DeviceService extends OperationService {
  readonly anonymous: ReadonlySet<string> = ANONYMOUS;
  protected readonly path = DEVICE_PATH;
  protected readonly prefix = 'tds';
  protected readonly what = 'a device service';
  readonly #deps: DeviceServiceDeps;

  constructor(deps: DeviceServiceDeps) {
    super();
    this.#deps = deps;
  }

  protected readonly operations: Readonly<Record<string, Operation>> = {
    GetDeviceInformation: () => this.#deviceInformation(),
    GetSystemDateAndTime: () => this.#dateAndTime(),
    GetCapabilities: (call) => this.#capabilities(call),
    GetServices: (call) => this.#services(call),
    GetServiceCapabilities: () => DEVICE_CAPABILITIES,
    GetScopes: () => this.#scopes(),
    GetNetworkInterfaces: () => interfacesXml(),
    GetHostname: () =>
      '<tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP>' +
      `<tt:Name>${xml(osHostname())}</tt:Name></tds:HostnameInformation>`,
    GetUsers: () =>
      `<tds:User><tt:Username>${xml(this.#deps.username())}</tt:Username>` +
      '<tt:UserLevel>Administrator</tt:UserLevel></tds:User>',
    GetWsdlUrl: () => '<tds:WsdlUrl>http://www.onvif.org/</tds:WsdlUrl>',
    GetEndpointReference: () =>
      `<tds:GUID>${xml(endpointGuid(this.#deps.identity().serialNumber))}</tds:GUID>`,
    SystemReboot: () => ({ inner: '<tds:Message>Rebooting</tds:Message>', after: () => this.#deps.reboot() }),
  };

  #deviceInformation(): string {
    const id = this.#deps.identity();
    return (
      `<tds:Manufacturer>${xml(id.manufacturer)}</tds:Manufacturer><tds:Model>${xml(id.model)}</tds:Model>` +
      `<tds:FirmwareVersion>${xml(id.firmwareVersion)}</tds:FirmwareVersion>` +
      `<tds:SerialNumber>${xml(id.serialNumber)}</tds:SerialNumber><tds:HardwareId>${xml(id.hardwareId)}</tds:HardwareId>`
    );
  }

  #dateAndTime(): string {
    const now = this.#deps.now?.() ?? new Date();
    const zone = this.#deps.timezone();
    const local = localParts(now, zone);
    return (
      '<tds:SystemDateAndTime>' +
      '<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
      `<tt:TimeZone><tt:TZ>${xml(zone === 'UTC' ? 'UTC0' : zone)}</tt:TZ></tt:TimeZone>` +
      `<tt:UTCDateTime>${dateTimeXml({
        year: now.getUTCFullYear(),
        month: now.getUTCMonth() + 1,
        day: now.getUTCDate(),
        hour: now.getUTCHours(),
        minute: now.getUTCMinutes(),
        second: now.getUTCSeconds(),
      })}</tt:UTCDateTime>` +
      `<tt:LocalDateTime>${dateTimeXml(local)}</tt:LocalDateTime>` +
      '</tds:SystemDateAndTime>'
    );
  }

  #capabilities(call: SoapCall): string {
    const category = text(call.body.Category) ?? 'All';
    const x = (path: string) => xml(this.#deps.xaddr(path, call.host));
    const byNs = new Map(this.#deps.services().map((s) => [s.namespace, s]));
    const parts: string[] = [];
    const want = (name: string) => category === 'All' || category === name;
    if (want('Device')) {
      parts.push(
        `<tt:Device><tt:XAddr>${x(DEVICE_PATH)}</tt:XAddr>` +
          '<tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration>' +
          '<tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>' +
          '<tt:System><tt:DiscoveryResolve>true</tt:DiscoveryResolve><tt:DiscoveryBye>true</tt:DiscoveryBye>' +
          '<tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup>' +
          '<tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>' +
          '<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System>' +
          '<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2>' +
          '<tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration><tt:AccessPolicyConfig>false</tt:AccessPolicyConfig>' +
          '<tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken><tt:KerberosToken>false</tt:KerberosToken>' +
          '<tt:RELToken>false</tt:RELToken></tt:Security></tt:Device>',
      );
    }
    const events = byNs.get(NAMESPACES.tev);
    if (events && want('Events')) {
      parts.push(
        `<tt:Events><tt:XAddr>${x(events.path)}</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
          '<tt:WSPullPointSupport>true</tt:WSPullPointSupport>' +
          '<tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>',
      );
    }
    const imaging = byNs.get(NAMESPACES.timg);
    if (imaging && want('Imaging'))
      parts.push(`<tt:Imaging><tt:XAddr>${x(imaging.path)}</tt:XAddr></tt:Imaging>`);
    const media = byNs.get(NAMESPACES.trt);
    if (media && want('Media')) {
      parts.push(
        `<tt:Media><tt:XAddr>${x(media.path)}</tt:XAddr><tt:StreamingCapabilities>` +
          '<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>' +
          '</tt:StreamingCapabilities></tt:Media>',
      );
    }
    if (parts.length === 0)
      throw new SoapFault('Receiver', 'ter:ActionNotSupported', `no ${category} capability`);
    return `<tds:Capabilities>${parts.join('')}</tds:Capabilities>`;
  }

  #services(call: SoapCall): string {
    const include = text(call.body.IncludeCapability) === 'true';
    const all: ServiceEntry[] = [
      {
        namespace: NAMESPACES.tds,
        path: DEVICE_PATH,
        version: DEVICE_VERSION,
        capabilities: DEVICE_CAPABILITIES,
      },
      ...this.#deps.services(),
    ];
    return all
      .map(
        (s) =>
          `<tds:Service><tds:Namespace>${xml(s.namespace)}</tds:Namespace><tds:XAddr>${xml(this.#deps.xaddr(s.path, call.host))}</tds:XAddr>` +
          (include && s.capabilities ? `<tds:Capabilities>${s.capabilities}</tds:Capabilities>` : '') +
          `<tds:Version><tt:Major>${s.version.major}</tt:Major><tt:Minor>${s.version.minor}</tt:Minor></tds:Version></tds:Service>`,
      )
      .join('');
  }

  #scopes(): string {
    return this.#deps
      .scopes()
      .map(
        (scope) =>
          `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${xml(scope)}</tt:ScopeItem></tds:Scopes>`,
      )
      .join('');
  }
}

const DEVICE_CAPABILITIES =
  '<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false" NTP="0" HostnameFromDHCP="false"/>' +
  '<tds:Security TLS1.0="false" TLS1.1="false" TLS1.2="false" OnboardKeyGeneration="false" AccessPolicyConfig="false" ' +
  'DefaultAccessPolicy="false" Dot1X="false" RemoteUserHandling="false" X.509Token="false" SAMLToken="false" ' +
  'KerberosToken="false" UsernameToken="true" HttpDigest="true" RELToken="false" MaxUsers="1" MaxUserNameLength="64" MaxPasswordLength="128"/>' +
  '<tds:System DiscoveryResolve="true" DiscoveryBye="true" RemoteDiscovery="false" SystemBackup="false" SystemLogging="false" ' +
  'FirmwareUpgrade="false" HttpFirmwareUpgrade="false" HttpSystemBackup="false" HttpSystemLogging="false" HttpSupportInformation="false"/>' +
  '</tds:Capabilities>';

/** The scopes a camera announces (GetScopes, and the discovery's ProbeMatch). */
export function deviceScopes(name: string, model: string, location = 'home'): string[] {
  const part = (value: string) => encodeURIComponent(value);
  return [
    'onvif://www.onvif.org/type/video_encoder',
    'onvif://www.onvif.org/type/Network_Video_Transmitter',
    'onvif://www.onvif.org/Profile/Streaming',
    'onvif://www.onvif.org/Profile/T',
    `onvif://www.onvif.org/name/${part(name)}`,
    `onvif://www.onvif.org/hardware/${part(model)}`,
    `onvif://www.onvif.org/location/${part(location)}`,
  ];
}

/**
 * The device's endpoint reference: the one WS-Discovery announces (a name-based UUID of the serial, so
 * two serials that share their first 16 characters still differ).
 */
export function endpointGuid(serial: string): string {
  return endpointFor(serial);
}

interface DateTimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function dateTimeXml(p: DateTimeParts): string {
  return (
    `<tt:Time><tt:Hour>${p.hour}</tt:Hour><tt:Minute>${p.minute}</tt:Minute><tt:Second>${p.second}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${p.year}</tt:Year><tt:Month>${p.month}</tt:Month><tt:Day>${p.day}</tt:Day></tt:Date>`
  );
}

function localParts(now: Date, zone: string): DateTimeParts {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }).formatToParts(now);
  } catch {
    return localParts(now, 'UTC');
  }
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

function interfacesXml(): string {
  const out: string[] = [];
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    const v4 = (addresses ?? []).filter((a) => a.family === 'IPv4' && !a.internal);
    const first = v4[0];
    if (!first) continue;
    out.push(
      `<tds:NetworkInterfaces token="${xml(name)}"><tt:Enabled>true</tt:Enabled>` +
        `<tt:Info><tt:Name>${xml(name)}</tt:Name><tt:HwAddress>${xml(first.mac)}</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>` +
        '<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config>' +
        v4
          .map(
            (a) =>
              `<tt:Manual><tt:Address>${xml(a.address)}</tt:Address><tt:PrefixLength>${prefixLength(a.netmask)}</tt:PrefixLength></tt:Manual>`,
          )
          .join('') +
        '<tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4></tds:NetworkInterfaces>',
    );
  }
  return out.join('');
}

function prefixLength(netmask: string): number {
  return netmask
    .split('.')
    .map((octet) => Number(octet).toString(2).replace(/0/g, '').length)
    .reduce((a, b) => a + b, 0);
}
