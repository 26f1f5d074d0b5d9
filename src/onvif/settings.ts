import { Type as T } from '@sinclair/typebox';

/**
 * The owner's `onvif` setting (desired state, contract section 3): the ONVIF device service for NVRs
 * on the local network, and whether it answers WS-Discovery. It serves only once the camera is set up.
 */
export const OnvifSetting = T.Object(
  {
    enabled: T.Boolean({ default: true }),
    discovery: T.Boolean({ default: true }),
  },
  { additionalProperties: false, default: {} },
);
