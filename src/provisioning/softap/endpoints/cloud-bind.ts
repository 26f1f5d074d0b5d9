/** `cloud-bind`: our endpoint for the bind token and region (schema in proto/cloud_bind.proto). */
import { ProtocommError } from '../errors.js';
import type { BindState, ProvisioningFlow } from '../flow.js';
import {
  CloudBindMsgType,
  CloudBindState,
  type CloudBindStateCode,
  decodeCloudBindCommand,
  encodeRespGetBindStatus,
  encodeRespSetBind,
} from '../proto/cloud-bind.js';
import { Status } from '../proto/session.js';
import type { EndpointHandler } from '../protocomm.js';
import { utf8 } from './convert.js';

const MAX_TOKEN = 1024;
const REGION = /^[A-Za-z0-9._-]{0,64}$/;

function bindStateOnWire(bind: BindState): { state: CloudBindStateCode; error: string } {
  switch (bind.kind) {
    case 'idle':
      return { state: CloudBindState.Idle, error: '' };
    case 'waiting':
      return { state: CloudBindState.WaitingForWifi, error: '' };
    case 'binding':
      return { state: CloudBindState.Binding, error: '' };
    case 'bound':
      return { state: CloudBindState.Bound, error: '' };
    case 'failed':
      return { state: CloudBindState.Failed, error: bind.error === 'error' ? 'wifi_failed' : bind.error };
  }
}

export function cloudBindEndpoint(flow: ProvisioningFlow): EndpointHandler {
  return async (request) => {
    const command = decodeCloudBindCommand(request);
    if ('unknown' in command)
      throw new ProtocommError('bad_request', `unknown cloud-bind message ${command.msg}`);
    if (command.msg === CloudBindMsgType.CmdGetBindStatus) {
      const { state, error } = bindStateOnWire(flow.bind);
      return encodeRespGetBindStatus(Status.Success, state, error);
    }
    const token = utf8(command.token);
    const region = utf8(command.region);
    if (!token || command.token.length > MAX_TOKEN || region === undefined || !REGION.test(region)) {
      return encodeRespSetBind(Status.InvalidArgument);
    }
    const result = flow.setBindRequest({ token, region });
    const status = { accepted: Status.Success, busy: Status.InternalError, bound: Status.InvalidArgument };
    return encodeRespSetBind(status[result]);
  };
}
