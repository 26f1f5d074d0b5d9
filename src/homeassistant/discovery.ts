/**
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery):
 * the topics this camera uses on the owner's broker and the discovery config of each entity. Pure: no
 * I/O, no settings, no logger.
 *
 * Discovery topics: `<prefix>/<component>/<deviceId>/<object>/config` (contract section 6), retained.
 * State and command topics: `ipcam/<deviceId>/<object>/...`.
 */

export type Component = 'camera' | 'binary_sensor' | 'switch' | 'select' | 'sensor' | 'button' | 'update';

export interface DeviceFacts {
  deviceId: string;
  /** The owner's name for the camera (setting `name`). */
  name: string;
  model: string;
  swVersion: string;
  mac: string;
}

export const MANUFACTURER = 'ipcam-agent';
export const NIGHT_MODES = ['auto', 'on', 'off'] as const;
export const STORAGE_STATES = ['ok', 'absent', 'readonly', 'full', 'error'] as const;

export interface HaTopics {
  base: string;
  availability: string;
  image: string;
  motion: string;
  privacyState: string;
  privacySet: string;
  picturesState: string;
  picturesSet: string;
  nightModeState: string;
  nightModeSet: string;
  wifiSignal: string;
  storageState: string;
  storageFree: string;
  reboot: string;
  firmware: string;
  /** Every topic this camera publishes retained state on (cleared on disable and reset). */
  retainedState: readonly string[];
  /** Every topic Home Assistant sends commands on. */
  commands: readonly string[];
}

export function haTopics(deviceId: string): HaTopics {
  const base = `ipcam/${deviceId}`;
  const t = {
    base,
    availability: `${base}/availability`,
    image: `${base}/camera/image`,
    motion: `${base}/motion/state`,
    privacyState: `${base}/privacy/state`,
    privacySet: `${base}/privacy/set`,
    picturesState: `${base}/alarm_pictures/state`,
    picturesSet: `${base}/alarm_pictures/set`,
    nightModeState: `${base}/night_mode/state`,
    nightModeSet: `${base}/night_mode/set`,
    wifiSignal: `${base}/wifi_signal/state`,
    storageState: `${base}/storage/state`,
    storageFree: `${base}/storage_free/state`,
    reboot: `${base}/reboot/press`,
    firmware: `${base}/firmware/state`,
  };
  return {
    ...t,
    retainedState: [
      t.availability,
      t.image,
      t.motion,
      t.privacyState,
      t.picturesState,
      t.nightModeState,
      t.wifiSignal,
      t.storageState,
      t.storageFree,
      t.firmware,
    ],
    commands: [t.privacySet, t.picturesSet, t.nightModeSet, t.reboot],
  };
}

export interface DiscoveryConfig {
  component: Component;
  objectId: string;
  /** `<prefix>/<component>/<deviceId>/<objectId>/config` */
  topic: string;
  payload: Record<string, unknown>;
}

export function discoveryTopic(
  prefix: string,
  component: Component,
  deviceId: string,
  objectId: string,
): string {
  return `${prefix}/${component}/${deviceId}/${objectId}/config`;
}

/** The discovery config of every entity, each with its unique id, the device block and availability. */
export function discoveryConfigs(prefix: string, device: DeviceFacts, topics: HaTopics): DiscoveryConfig[] {
  const entities: { component: Component; objectId: string; fields: Record<string, unknown> }[] = [
    {
      component: 'camera',
      objectId: 'camera',
      // The latest alarm picture (or interval snapshot) as a raw JPEG.
      fields: { name: null, topic: topics.image },
    },
    {
      component: 'binary_sensor',
      objectId: 'motion',
      fields: {
        name: 'Motion',
        state_topic: topics.motion,
        device_class: 'motion',
        payload_on: 'ON',
        payload_off: 'OFF',
      },
    },
    {
      component: 'switch',
      objectId: 'privacy',
      fields: {
        name: 'Privacy mode',
        icon: 'mdi:eye-off',
        state_topic: topics.privacyState,
        command_topic: topics.privacySet,
        payload_on: 'ON',
        payload_off: 'OFF',
        state_on: 'ON',
        state_off: 'OFF',
        entity_category: 'config',
      },
    },
    {
      component: 'switch',
      objectId: 'alarm_pictures',
      fields: {
        name: 'Alarm pictures',
        icon: 'mdi:image-marker',
        state_topic: topics.picturesState,
        command_topic: topics.picturesSet,
        payload_on: 'ON',
        payload_off: 'OFF',
        state_on: 'ON',
        state_off: 'OFF',
        entity_category: 'config',
      },
    },
    {
      component: 'select',
      objectId: 'night_mode',
      fields: {
        name: 'Night mode',
        icon: 'mdi:weather-night',
        state_topic: topics.nightModeState,
        command_topic: topics.nightModeSet,
        options: [...NIGHT_MODES],
        entity_category: 'config',
      },
    },
    {
      component: 'sensor',
      objectId: 'wifi_signal',
      fields: {
        name: 'Wi-Fi signal',
        state_topic: topics.wifiSignal,
        device_class: 'signal_strength',
        unit_of_measurement: 'dBm',
        state_class: 'measurement',
        entity_category: 'diagnostic',
      },
    },
    {
      component: 'sensor',
      objectId: 'storage',
      fields: {
        name: 'SD card',
        icon: 'mdi:sd',
        state_topic: topics.storageState,
        device_class: 'enum',
        options: [...STORAGE_STATES],
        entity_category: 'diagnostic',
      },
    },
    {
      component: 'sensor',
      objectId: 'storage_free',
      fields: {
        name: 'SD card free',
        icon: 'mdi:sd',
        state_topic: topics.storageFree,
        unit_of_measurement: '%',
        state_class: 'measurement',
        entity_category: 'diagnostic',
      },
    },
    {
      component: 'button',
      objectId: 'reboot',
      fields: {
        name: 'Reboot',
        command_topic: topics.reboot,
        payload_press: 'PRESS',
        device_class: 'restart',
        entity_category: 'config',
      },
    },
    {
      component: 'update',
      objectId: 'firmware',
      // A JSON state: {"installed_version": ..., "latest_version": ...}. No command topic: firmware
      // jobs come from the cloud only.
      fields: {
        name: 'Firmware',
        state_topic: topics.firmware,
        device_class: 'firmware',
        entity_category: 'diagnostic',
      },
    },
  ];
  const deviceBlock = {
    identifiers: [device.deviceId],
    connections: [['mac', device.mac]],
    name: device.name,
    model: device.model,
    manufacturer: MANUFACTURER,
    sw_version: device.swVersion,
    serial_number: device.deviceId,
  };
  return entities.map(({ component, objectId, fields }) => ({
    component,
    objectId,
    topic: discoveryTopic(prefix, component, device.deviceId, objectId),
    payload: {
      // `name: null` names an entity after the device alone (the camera).
      ...fields,
      unique_id: `${device.deviceId}_${objectId}`,
      availability_topic: topics.availability,
      payload_available: 'online',
      payload_not_available: 'offline',
      qos: 1,
      device: deviceBlock,
      origin: { name: MANUFACTURER, sw_version: device.swVersion },
    },
  }));
}

/** The states Home Assistant shows for the switches, the select and the binary sensor. */
export const onOff = (value: boolean): 'ON' | 'OFF' => (value ? 'ON' : 'OFF');
