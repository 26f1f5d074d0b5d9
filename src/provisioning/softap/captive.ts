/**
 * Answers to the probes phones and laptops send right after joining a network. Answering "online"
 * keeps the OS from raising a captive-portal sheet or dropping the AP for mobile data while the app is
 * talking to the camera. They reach us only if the AP's DNS answers every name with 192.168.4.1.
 */
export interface CaptiveAnswer {
  status: number;
  type: string;
  body: string;
}

const APPLE_SUCCESS = '<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>';

const PROBES: ReadonlyMap<string, CaptiveAnswer> = new Map([
  // Android, ChromeOS
  ['/generate_204', { status: 204, type: 'text/plain', body: '' }],
  ['/gen_204', { status: 204, type: 'text/plain', body: '' }],
  // iOS, macOS
  ['/hotspot-detect.html', { status: 200, type: 'text/html', body: APPLE_SUCCESS }],
  ['/library/test/success.html', { status: 200, type: 'text/html', body: APPLE_SUCCESS }],
  // Windows
  ['/connecttest.txt', { status: 200, type: 'text/plain', body: 'Microsoft Connect Test' }],
  ['/ncsi.txt', { status: 200, type: 'text/plain', body: 'Microsoft NCSI' }],
]);

/**
 * RFC 8908's captive-portal API, for phones handed its URI in DHCP option 114 (the AP's dnsmasq points
 * it at `/`): "not captive", for the same reason as the probes.
 */
const CAPTIVE_API: CaptiveAnswer = {
  status: 200,
  type: 'application/captive+json',
  body: '{"captive":false}',
};

export function captiveAnswer(path: string, accept: string | undefined): CaptiveAnswer | undefined {
  if (path === '/' && accept?.includes('application/captive+json')) return CAPTIVE_API;
  return PROBES.get(path);
}
