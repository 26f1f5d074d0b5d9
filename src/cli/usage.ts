import type { Command } from './commands.js';

/** `ipcam-agent --help`: what the commands are and where to read more. */
export function mainUsage(commands: readonly Command[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    `ipcam-agent ${version}: an open IP camera agent (RTSP, WebRTC, motion alarms, MQTT cloud link, OTA)`,
    '',
    'usage: ipcam-agent <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    '  ipcam-agent <command> --help   the options of a command',
    '  ipcam-agent --version          the version',
    '',
    'Try it: `ipcam-agent sim` (or `npm start` in a checkout) runs the whole product on this machine.',
    '',
  ].join('\n');
}

/** `ipcam-agent <command> --help`. */
export function commandUsage(command: Command): string {
  const rows = [
    ...Object.entries(command.options).map(([name, option]) => {
      const left = `--${name}${option.value ? ` ${option.value}` : ''}`;
      const fallback =
        typeof option.default === 'string' && !option.help.includes('default')
          ? ` (default ${option.default})`
          : '';
      return [left, `${option.help}${fallback}`] as const;
    }),
    ['-h, --help', 'show this help'] as const,
  ];
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    `usage: ipcam-agent ${command.name} ${command.synopsis}`,
    '',
    command.description,
    '',
    'options:',
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}${help}`),
    '',
  ].join('\n');
}
