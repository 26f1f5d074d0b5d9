/** `prov-ctrl`: Reset (start over after a failed join) and Reprov (new credentials after a good one). */
import { ProtocommError } from '../errors.js';
import type { ProvisioningFlow } from '../flow.js';
import { Status } from '../proto/session.js';
import { decodeWiFiCtrlCommand, encodeWiFiCtrlResponse, WiFiCtrlMsgType } from '../proto/wifi-ctrl.js';
import type { EndpointHandler } from '../protocomm.js';

export function wifiCtrlEndpoint(flow: ProvisioningFlow): EndpointHandler {
  return async (request) => {
    const msg = decodeWiFiCtrlCommand(request);
    if (msg !== WiFiCtrlMsgType.CmdCtrlReset && msg !== WiFiCtrlMsgType.CmdCtrlReprov) {
      throw new ProtocommError('bad_request', `unknown prov-ctrl message ${msg}`);
    }
    // Both forget the credentials; neither is allowed while a join or a bind is under way.
    return encodeWiFiCtrlResponse(msg, flow.reset() ? Status.Success : Status.InternalError);
  };
}
