/** `prov-config`: GetStatus, SetConfig, ApplyConfig, answered as ESP-IDF's wifi_config.c does. */
import { ProtocommError } from '../errors.js';
import type { ProvisioningFlow, StationState } from '../flow.js';
import { Status } from '../proto/session.js';
import {
  decodeWiFiConfigCommand,
  encodeRespApplyConfig,
  encodeRespGetStatus,
  encodeRespSetConfig,
  type StationReport,
  WiFiConfigMsgType,
  WifiConnectFailedReason,
} from '../proto/wifi-config.js';
import type { EndpointHandler } from '../protocomm.js';
import { authToWire, bytesToMac, macToBytes, ssidBytes, utf8 } from './convert.js';

const MAX_SSID = 32;
/** 63 characters of passphrase, or a 64-digit hex PSK. */
const MAX_PASSPHRASE = 64;

const FAIL_REASON = {
  auth_error: WifiConnectFailedReason.AuthError,
  ap_not_found: WifiConnectFailedReason.NetworkNotFound,
  dhcp_failed: WifiConnectFailedReason.DhcpFailed,
  error: WifiConnectFailedReason.Other,
} as const;

export function toStationReport(station: StationState): StationReport {
  switch (station.kind) {
    case 'idle':
      return { state: 'disconnected' };
    case 'connecting':
      return { state: 'connecting' };
    case 'failed':
      // ESP-IDF's own "disconnected" state goes on the wire as ConnectionFailed plus the reason.
      return { state: 'failed', reason: FAIL_REASON[station.reason] };
    case 'connected': {
      const link = station.link;
      if (link && !link.connected) return { state: 'disconnected' };
      return {
        state: 'connected',
        connected: {
          ip4: link?.ip4 ?? '',
          auth: authToWire(link?.auth),
          ssid: ssidBytes(link?.ssid ?? station.ssid),
          bssid: macToBytes(link?.bssid),
          channel: link?.channel ?? 0,
        },
      };
    }
  }
}

export function wifiConfigEndpoint(flow: ProvisioningFlow): EndpointHandler {
  return async (request) => {
    const command = decodeWiFiConfigCommand(request);
    if ('unknown' in command)
      throw new ProtocommError('bad_request', `unknown prov-config message ${command.msg}`);
    switch (command.msg) {
      case WiFiConfigMsgType.CmdGetStatus:
        return encodeRespGetStatus(Status.Success, toStationReport(await flow.stationReport()));
      case WiFiConfigMsgType.CmdSetConfig: {
        const ssid = utf8(command.ssid);
        const password = utf8(command.passphrase);
        const valid =
          ssid !== undefined &&
          password !== undefined &&
          command.ssid.length > 0 &&
          command.ssid.length <= MAX_SSID &&
          command.passphrase.length <= MAX_PASSPHRASE &&
          (command.bssid.length === 0 || command.bssid.length === 6);
        if (!valid) return encodeRespSetConfig(Status.InvalidArgument);
        const accepted = flow.setCredentials({
          ssid,
          password,
          ...(command.bssid.length === 6 ? { bssid: bytesToMac(command.bssid) } : {}),
          ...(command.channel > 0 ? { channel: command.channel } : {}),
        });
        return encodeRespSetConfig(accepted ? Status.Success : Status.InternalError);
      }
      case WiFiConfigMsgType.CmdApplyConfig: {
        const result = flow.apply();
        const status = {
          started: Status.Success,
          no_credentials: Status.InvalidArgument,
          busy: Status.InternalError,
        };
        return encodeRespApplyConfig(status[result]);
      }
    }
  };
}
