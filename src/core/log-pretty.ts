/**
 * Readable log lines for a person at a terminal, made from the JSON line pino wrote (so redaction has
 * already happened: this sees only what the JSON format would have shown):
 *
 *   21:52:24.123 WARN  capture  ffmpeg says  ffmpeg="Invalid argument"
 *
 * time (local), level, module, message, then the other fields as key=value. Pure.
 */
export interface PrettyOptions {
  /** ANSI colours for the level and dim time; off for NO_COLOR or when not writing to a terminal. */
  color: boolean;
}

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '90' },
  20: { name: 'DEBUG', color: '36' },
  30: { name: 'INFO', color: '32' },
  40: { name: 'WARN', color: '33' },
  50: { name: 'ERROR', color: '31' },
  60: { name: 'FATAL', color: '35' },
};

/** A field longer than this is cut: the JSON format keeps it whole for machines. */
const MAX_VALUE = 400;

/** Every line of a multi-line message or stack is indented under its record. */
const INDENT = '    ';

export function prettyLine(jsonLine: string, options: PrettyOptions): string {
  let record: unknown;
  try {
    record = JSON.parse(jsonLine);
  } catch {
    return `${visible(jsonLine.trimEnd())}\n`;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return `${visible(jsonLine.trimEnd())}\n`;
  }
  const { time, level, module, msg, err, ...fields } = record as Record<string, unknown>;
  const paint = (code: string, text: string) => (options.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const known = typeof level === 'number' ? LEVELS[level] : undefined;
  const levelText = (known?.name ?? String(level ?? '?')).padEnd(5);
  const parts = [
    paint('2', clock(time)),
    known ? paint(known.color, levelText) : visible(levelText),
    ...(typeof module === 'string' ? [paint('1', visible(module))] : []),
    oneLine(typeof msg === 'string' ? msg : msg === undefined ? '' : JSON.stringify(msg)),
  ];
  const pairs = Object.entries(fields).map(([key, value]) => `${visible(key)}=${fieldValue(value)}`);
  const extra: string[] = [];
  if (err !== undefined) {
    pairs.push(`err=${fieldValue(errorText(err))}`);
    // A stack is worth its lines for errors; below that level the message says enough.
    const stack = (err as { stack?: unknown } | null)?.stack;
    if (typeof stack === 'string' && typeof level === 'number' && level >= 50) {
      extra.push(
        ...stack
          .split('\n')
          .slice(1)
          .map((l) => `${INDENT}${visible(l.trim())}`),
      );
    }
  }
  const head = [...parts.filter((p) => p !== ''), ...(pairs.length > 0 ? [` ${pairs.join(' ')}`] : [])];
  return `${[head.join(' '), ...extra].join('\n')}\n`;
}

function clock(time: unknown): string {
  const date = new Date(typeof time === 'number' ? time : Date.now());
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function errorText(err: unknown): string {
  if (err === null || typeof err !== 'object') return String(err);
  const { type, message, code } = err as { type?: unknown; message?: unknown; code?: unknown };
  const text = `${typeof type === 'string' ? `${type}: ` : ''}${typeof message === 'string' ? message : JSON.stringify(err)}`;
  return code === undefined ? text : `${text} (${String(code)})`;
}

/** Bare when it is one word; JSON (quoted, escaped) otherwise, so a field can be read back unambiguously. */
function fieldValue(value: unknown): string {
  const text =
    typeof value === 'string' && /^[^\s"=\\]+$/.test(value)
      ? value
      : typeof value === 'string'
        ? JSON.stringify(value)
        : (JSON.stringify(value) ?? String(value));
  return visible(text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text);
}

function oneLine(text: string): string {
  return visible(text.replaceAll('\r', '')).split('\n').join(`\n${INDENT}`);
}

/**
 * Control characters shown as escapes: a logged value (a client's RTSP URL, an SSID, ffmpeg's
 * stderr) must not be able to move the cursor or recolour the terminal. Newlines are kept for
 * `oneLine` to indent; JSON has already escaped them inside fields.
 */
function visible(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    const control = (c < 0x20 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f);
    out += control ? `\\x${c.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}
