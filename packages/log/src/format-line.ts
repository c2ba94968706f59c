/** Keys every pino line has; the pretty and plain lines show them in their own way or not at all. */
const FIXED_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'err']);

const LEVEL_COLORS: Readonly<Record<string, string>> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };

function paint(text: string, code: string | undefined, color: boolean): string {
  return color && code !== undefined ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function toValueText(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

interface SerializedError {
  readonly message?: string;
  readonly stack?: string;
}

/**
 * One JSON log line as a person reads it in a terminal:
 * `12:04:05.123 WARN  message run=r1 step=3 code=SYNC_FAILED`, the error's
 * stack indented below it on error and fatal lines.
 */
export function toPrettyLine(entry: Record<string, unknown>, color = false): string {
  const level = String(entry.level ?? 'info');
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const fields = Object.entries(entry)
    .filter(([k]) => !FIXED_KEYS.has(k))
    .map(([k, v]) => `${paint(k, '90', color)}=${toValueText(v)}`);
  const err = entry.err as SerializedError | undefined;
  if (err?.message !== undefined && err.message !== entry.msg) fields.push(`${paint('err', '90', color)}=${toValueText(err.message)}`);
  const head = [time, paint(level.toUpperCase().padEnd(5), LEVEL_COLORS[level], color), String(entry.msg ?? ''), ...fields]
    .filter((p) => p !== '')
    .join(' ');
  const stack =
    (level === 'error' || level === 'fatal') && err?.stack
      ? `\n${err.stack
          .split('\n')
          .slice(1)
          .map((l) => `    ${l.trim()}`)
          .join('\n')}`
      : '';
  return head + stack;
}

/** One JSON log line as the bare message, `warning: ` or `error: ` before warnings and errors. */
export function toPlainLine(entry: Record<string, unknown>): string {
  const level = String(entry.level ?? 'info');
  const prefix = level === 'warn' ? 'warning: ' : level === 'error' || level === 'fatal' ? 'error: ' : '';
  return `${prefix}${String(entry.msg ?? '')}`;
}
