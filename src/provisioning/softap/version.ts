/**
 * The `proto-ver` answer: plain JSON, readable before any session exists. `prov` is what Espressif's
 * clients parse (`sec_ver` picks Security 2, `sec_patch_ver` 1 the per-message nonce counter, `cap`
 * lists `wifi_scan` so the apps offer a network list); `ipcam` is ours, naming the `cloud-bind`
 * endpoint so our app knows it may send the bind token here.
 */
export const PROV_VERSION = 'v1.1';
export const SEC_VERSION = 2;
export const SEC_PATCH_VERSION = 1;
export const CLOUD_BIND_CAPABILITY = 'cloud-bind';

export function versionInfo(): string {
  return JSON.stringify({
    prov: { ver: PROV_VERSION, sec_ver: SEC_VERSION, sec_patch_ver: SEC_PATCH_VERSION, cap: ['wifi_scan'] },
    ipcam: { ver: 'v1', cap: [CLOUD_BIND_CAPABILITY, 'wifi_ctrl'] },
  });
}
