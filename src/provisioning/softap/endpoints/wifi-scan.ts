/** `prov-scan`: ScanStart, ScanStatus, ScanResult, answered as ESP-IDF's wifi_scan.c does. */
import { ProtocommError } from '../errors.js';
import type { ProvisioningFlow } from '../flow.js';
import { Status } from '../proto/session.js';
import {
  decodeWiFiScanCommand,
  encodeRespScanResult,
  encodeRespScanStart,
  encodeRespScanStatus,
  WiFiScanMsgType,
} from '../proto/wifi-scan.js';
import type { EndpointHandler } from '../protocomm.js';
import { authToWire, macToBytes, ssidBytes } from './convert.js';

export function wifiScanEndpoint(flow: ProvisioningFlow): EndpointHandler {
  return async (request) => {
    const command = decodeWiFiScanCommand(request);
    if ('unknown' in command)
      throw new ProtocommError('bad_request', `unknown prov-scan message ${command.msg}`);
    switch (command.msg) {
      case WiFiScanMsgType.CmdScanStart: {
        const ok = await flow.startScan(command.blocking);
        return encodeRespScanStart(ok ? Status.Success : Status.InternalError);
      }
      case WiFiScanMsgType.CmdScanStatus: {
        const { finished, count } = flow.scanStatus();
        return encodeRespScanStatus(Status.Success, finished, count);
      }
      case WiFiScanMsgType.CmdScanResult: {
        const { networks, complete } = flow.scanResults(command.startIndex, command.count);
        const entries = networks.map((network) => ({
          ssid: ssidBytes(network.ssid),
          channel: network.channel,
          rssi: network.rssi,
          bssid: macToBytes(network.bssid),
          auth: authToWire(network.auth),
        }));
        return encodeRespScanResult(complete ? Status.Success : Status.InternalError, entries);
      }
    }
  };
}
