import type { LogFormat } from '../core/logger.js';
import { fail } from './common.js';

/** One option of a command: parsed by node's parseArgs, described by `<command> --help`. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The value's placeholder in the help, e.g. `<file>`. */
  value?: string;
  default?: string | boolean;
  help: string;
}

export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  name: string;
  /** One line for `ipcam-agent --help`. */
  summary: string;
  /** What follows `ipcam-agent <name>` in the usage line. */
  synopsis: string;
  /** A few lines for `ipcam-agent <name> --help`. */
  description: string;
  options: Record<string, OptionSpec>;
  run(values: Values): Promise<number>;
}

const DATA_DIR: OptionSpec = {
  type: 'string',
  value: '<dir>',
  default: './.ipcam-sim',
  help: "the simulator's data directory (identity, keys, state)",
};
const LOG_FORMAT: OptionSpec = {
  type: 'string',
  value: 'json|pretty',
  help: 'log lines as JSON or readable; default: pretty on a terminal, else JSON (env IPCAM_LOG_FORMAT)',
};

function text(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

function required(values: Values, name: string): string {
  return text(values, name) ?? '';
}

function port(values: Values, flag: string): number | undefined {
  const value = text(values, flag);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535)
    fail(`--${flag}: expected a port number 0-65535, got ${JSON.stringify(value)}`);
  return n;
}

/** `--log-format`, else IPCAM_LOG_FORMAT, else undefined (the logger's destination decides). */
function logFormat(values: Values): LogFormat | undefined {
  const flag = text(values, 'log-format');
  const chosen = flag ?? process.env.IPCAM_LOG_FORMAT;
  if (chosen === undefined || chosen === '') return undefined;
  if (chosen !== 'json' && chosen !== 'pretty') {
    const where = flag !== undefined ? '--log-format' : 'IPCAM_LOG_FORMAT';
    fail(`${where}: expected json or pretty, got ${JSON.stringify(chosen)}`);
  }
  return chosen;
}

// Each command loads only what it needs: `run` on a camera never loads the simulator's broker.
export const COMMANDS: readonly Command[] = [
  {
    name: 'run',
    summary: 'the daemon, on a camera',
    synopsis: '--config <file> [options]',
    description: 'Runs the camera daemon with a YAML or JSON config (see config/config.example.yaml).',
    options: {
      config: { type: 'string', value: '<file>', help: 'the config file (required)' },
      'log-format': LOG_FORMAT,
    },
    run: async (values) => {
      const config = text(values, 'config');
      if (!config) fail('run: --config <file> is required (see ipcam-agent run --help)');
      const { runCommand } = await import('./run.js');
      return runCommand(config, { logFormat: logFormat(values) });
    },
  },
  {
    name: 'sim',
    summary: 'the whole product on a laptop: a simulated camera, its cloud and a broker',
    synopsis: '[options]',
    description: [
      'A simulated camera (test picture with a clock and a moving object, or a video file), its cloud',
      'stand-in, the web console, and an MQTT broker when none listens on the port. It prints where',
      'everything is once it has started. Port 0 picks a free port and prints it.',
    ].join('\n'),
    options: {
      'data-dir': DATA_DIR,
      config: { type: 'string', value: '<file>', help: 'a config file to start from' },
      'broker-port': { type: 'string', value: '<n>', help: 'MQTT broker port (default 1883)' },
      'ws-port': { type: 'string', value: '<n>', help: 'MQTT over WebSocket port (default 8083)' },
      'rtsp-port': { type: 'string', value: '<n>', help: 'RTSP port (default 8554)' },
      'console-port': { type: 'string', value: '<n>', help: 'web console port (default 8080)' },
      'onvif-port': { type: 'string', value: '<n>', help: 'ONVIF device service port (default 8000)' },
      'discovery-port': {
        type: 'string',
        value: '<n>',
        help: 'WS-Discovery UDP port (default 3702, 0: any)',
      },
      'softap-port': { type: 'string', value: '<n>', help: 'SoftAP provisioning port (default 8081)' },
      video: {
        type: 'string',
        value: '<file>',
        help: 'show this video file (any container ffmpeg reads, looped; silence if it has no audio)',
      },
      passthrough: {
        type: 'boolean',
        default: false,
        help: "with --video: serve the file's H.264/H.265 as it is, as a camera's hardware encoder (no re-encode)",
      },
      storage: {
        type: 'string',
        value: '<dir>',
        help: 'the folder that stands for the SD card (default <data dir>/sdcard)',
      },
      unprovisioned: {
        type: 'boolean',
        default: false,
        help: 'start out of the box, waiting to be set up (QR code or SoftAP)',
      },
      'log-format': LOG_FORMAT,
    },
    run: async (values) => {
      const { simCommand } = await import('./sim.js');
      return simCommand({
        dataDir: required(values, 'data-dir'),
        configPath: text(values, 'config'),
        brokerPort: port(values, 'broker-port'),
        wsPort: port(values, 'ws-port'),
        rtspPort: port(values, 'rtsp-port'),
        consolePort: port(values, 'console-port'),
        onvifPort: port(values, 'onvif-port'),
        discoveryPort: port(values, 'discovery-port'),
        softapPort: port(values, 'softap-port'),
        video: text(values, 'video'),
        passthrough: values.passthrough === true,
        unprovisioned: values.unprovisioned === true,
        storage: text(values, 'storage'),
        logFormat: logFormat(values),
      });
    },
  },
  {
    name: 'token',
    summary: "prints a viewer token signed with the simulator's cloud key",
    synopsis: '[--rights live,talk] [--ttl 300] [--data-dir <dir>]',
    description: 'A viewer token for the console and other tools (WebRTC live view and talk-back).',
    options: {
      rights: { type: 'string', value: 'live,talk', default: 'live', help: 'the rights it grants' },
      ttl: { type: 'string', value: '<seconds>', default: '300', help: 'validity, 1-86400 s' },
      'data-dir': DATA_DIR,
    },
    run: async (values) => {
      const ttl = Number(text(values, 'ttl'));
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86400)
        fail(`--ttl: expected seconds 1-86400, got ${JSON.stringify(values.ttl)}`);
      const { tokenCommand } = await import('./token.js');
      return tokenCommand({
        dataDir: required(values, 'data-dir'),
        rights: required(values, 'rights'),
        ttlSeconds: ttl,
      });
    },
  },
  {
    name: 'label',
    summary: "prints the device's label QR payload and writes it as a PNG",
    synopsis: '[--identity <file>] [--out label.png] [--model <m>] [--data-dir <dir>]',
    description: "Without --identity, the simulator's factory identity (made on first use).",
    options: {
      identity: {
        type: 'string',
        value: '<file>',
        help: "a factory identity.json (default: the simulator's)",
      },
      out: { type: 'string', value: '<file>', default: 'label.png', help: 'where the PNG goes' },
      model: { type: 'string', value: '<m>', help: "the model name on the label (default: the identity's)" },
      'data-dir': DATA_DIR,
    },
    run: async (values) => {
      const { labelCommand } = await import('./label.js');
      return labelCommand({
        identityFile: text(values, 'identity'),
        dataDir: required(values, 'data-dir'),
        out: required(values, 'out'),
        model: text(values, 'model'),
      });
    },
  },
  {
    name: 'release',
    summary: 'prints the signed firmware job document for an image',
    synopsis: '--image <file> --version <v> --version-code <n> --url <https-url> [options]',
    description: [
      'The job document of contract section 7, signed with Ed25519. Without --key it is signed with the',
      "simulator's release key (in the data directory), which the simulated camera trusts.",
    ].join('\n'),
    options: {
      image: { type: 'string', value: '<file>', help: 'the firmware image (required)' },
      version: { type: 'string', value: '<v>', help: 'its version, e.g. 1.5.0 (required)' },
      'version-code': { type: 'string', value: '<n>', help: 'its version code, e.g. 10500 (required)' },
      url: { type: 'string', value: '<https-url>', help: 'where the camera downloads it (required)' },
      key: { type: 'string', value: '<pem>', help: "an Ed25519 private key (default: the simulator's)" },
      model: { type: 'string', value: '<m>', help: "the model it is for (default: the simulator's)" },
      format: { type: 'string', value: 'tar|raucb|swu', help: 'the image format (default: from its name)' },
      'job-id': { type: 'string', value: '<id>', help: 'wrap it as {"jobId", "document"}' },
      'data-dir': DATA_DIR,
    },
    run: async (values) => {
      const image = text(values, 'image');
      const version = text(values, 'version');
      const versionCode = text(values, 'version-code');
      const url = text(values, 'url');
      if (!image || !version || !versionCode || !url)
        fail(
          'release: --image, --version, --version-code and --url are required (see ipcam-agent release --help)',
        );
      const { releaseCommand } = await import('./release.js');
      return releaseCommand({
        image,
        version,
        versionCode,
        url,
        key: text(values, 'key'),
        dataDir: required(values, 'data-dir'),
        model: text(values, 'model'),
        format: text(values, 'format'),
        jobId: text(values, 'job-id'),
      });
    },
  },
];
