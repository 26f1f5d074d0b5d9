/**
 * What Home Assistant's documentation requires of an MQTT discovery config, per platform. Each row
 * cites its page; `required` are the keys marked "Required" there. On every platform page the `device`
 * block "only works when `unique_id` is set", so each config carries both; the device block is
 * described under https://www.home-assistant.io/integrations/mqtt/#discovery-messages.
 */
export const PLATFORMS: Record<string, { doc: string; required: string[]; extra?: Record<string, unknown> }> =
  {
    // https://www.home-assistant.io/integrations/camera.mqtt/ : `topic` (Required).
    camera: { doc: 'https://www.home-assistant.io/integrations/camera.mqtt/', required: ['topic'] },
    // https://www.home-assistant.io/integrations/binary_sensor.mqtt/ : `state_topic` (Required).
    binary_sensor: {
      doc: 'https://www.home-assistant.io/integrations/binary_sensor.mqtt/',
      required: ['state_topic'],
      extra: { device_class: 'motion' },
    },
    // https://www.home-assistant.io/integrations/switch.mqtt/ : `command_topic` (Required).
    switch: { doc: 'https://www.home-assistant.io/integrations/switch.mqtt/', required: ['command_topic'] },
    // https://www.home-assistant.io/integrations/select.mqtt/ : `command_topic` and `options` (Required).
    select: {
      doc: 'https://www.home-assistant.io/integrations/select.mqtt/',
      required: ['command_topic', 'options'],
    },
    // https://www.home-assistant.io/integrations/sensor.mqtt/ : `state_topic` (Required).
    sensor: { doc: 'https://www.home-assistant.io/integrations/sensor.mqtt/', required: ['state_topic'] },
    // https://www.home-assistant.io/integrations/button.mqtt/ : `command_topic` (Required).
    button: { doc: 'https://www.home-assistant.io/integrations/button.mqtt/', required: ['command_topic'] },
    // https://www.home-assistant.io/integrations/update.mqtt/ : no key is Required; `state_topic` carries
    // a JSON payload with `installed_version` and `latest_version`, which this camera uses.
    update: { doc: 'https://www.home-assistant.io/integrations/update.mqtt/', required: ['state_topic'] },
  };

/** Keys every discovery config of this camera has: identity, device block and availability. */
export const COMMON_REQUIRED = ['unique_id', 'device', 'availability_topic'];

/** The device block: https://www.home-assistant.io/integrations/mqtt/#discovery-messages (device). */
export const DEVICE_KEYS = ['identifiers', 'name', 'model', 'manufacturer', 'sw_version'];

/** The entities this camera announces: component and object id. */
export const EXPECTED_ENTITIES = [
  'camera/camera',
  'binary_sensor/motion',
  'switch/privacy',
  'switch/alarm_pictures',
  'select/night_mode',
  'sensor/wifi_signal',
  'sensor/storage',
  'sensor/storage_free',
  'button/reboot',
  'update/firmware',
];

/** The missing keys of one discovery config (an empty list when it is complete). */
export function missingKeys(component: string, payload: Record<string, unknown>): string[] {
  const platform = PLATFORMS[component];
  if (!platform) return [`(unknown platform ${component})`];
  const missing = [...platform.required, ...COMMON_REQUIRED].filter((key) => payload[key] === undefined);
  const device = payload.device as Record<string, unknown> | undefined;
  if (device)
    missing.push(...DEVICE_KEYS.filter((key) => device[key] === undefined).map((k) => `device.${k}`));
  for (const [key, value] of Object.entries(platform.extra ?? {})) {
    if (payload[key] !== value) missing.push(`${key}=${String(value)}`);
  }
  return missing;
}
