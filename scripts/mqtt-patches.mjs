// Changes to mqtt.js 5 that the daemon's bundle carries (scripts/build.mjs applies them to mqtt's
// CommonJS build as esbuild loads it). Each names the exact text it replaces and fails the build when
// that text is not there once, so an mqtt upgrade cannot drop one silently.
//
// Both only defer a require() to the moment it is needed. mqtt.connect() requires the WebSocket
// transport (the `ws` package) for every broker URL, and the TCP and TLS transports require the SOCKS
// client (the `socks` package, with ip-address and smart-buffer) at load: together about 2 MB RSS on
// Node 24 (docs/deployment.md) that a camera talking MQTT over TLS without a proxy never uses. A
// `ws://`/`wss://` broker URL and MQTTJS_SOCKS_PROXY still work: they load them when used.

/** @type {{ file: string, name: string, find: string, replace: string }[]} */
export const MQTT_PATCHES = [
  {
    file: 'connect/index.js',
    name: 'the WebSocket transport is loaded when a ws:// or wss:// URL is used',
    find: "protocols.ws = require('./ws').streamBuilder;\n            protocols.wss = require('./ws').streamBuilder;",
    replace:
      "protocols.ws = (client, opts) => require('./ws').streamBuilder(client, opts);\n            protocols.wss = protocols.ws;",
  },
  {
    file: 'connect/tls.js',
    name: 'TLS: the SOCKS client is loaded when a proxy is used',
    find: 'const socks_1 = __importDefault(require("./socks"));',
    replace: 'const socks_1 = { get default() { return __importDefault(require("./socks")).default; } };',
  },
  {
    file: 'connect/tcp.js',
    name: 'TCP: the SOCKS client is loaded when a proxy is used',
    find: 'const socks_1 = __importDefault(require("./socks"));',
    replace: 'const socks_1 = { get default() { return __importDefault(require("./socks")).default; } };',
  },
];

/** The files the patches touch, as paths under mqtt's build/lib/. */
export const MQTT_PATCHED_FILES = [...new Set(MQTT_PATCHES.map((patch) => patch.file))];

/** `source` of mqtt's build/lib/`file` with its patches applied; throws when one does not match once. */
export function patchMqtt(file, source) {
  let out = source;
  for (const patch of MQTT_PATCHES.filter((p) => p.file === file)) {
    const count = out.split(patch.find).length - 1;
    if (count !== 1) throw new Error(`mqtt patch "${patch.name}": found ${count} times, expected once`);
    out = out.replace(patch.find, patch.replace);
  }
  return out;
}
