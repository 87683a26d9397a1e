// Readable log lines for a person at a terminal: `12:03:04.567 INFO  ready: http://127.0.0.1:7611
// readers=["sim-1"]`. The same pino entries as the JSON log (already scrubbed and redacted before they
// get here), only formatted; yikad uses it when stdout is a TTY, or with YIKA_LOG_FORMAT=pretty.
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

export type LogFormat = 'json' | 'pretty';

/** The log format: YIKA_LOG_FORMAT (json | pretty) when set, else pretty on a TTY and JSON otherwise. */
export function chooseLogFormat(env: NodeJS.ProcessEnv, isTty: boolean): LogFormat {
  const v = env.YIKA_LOG_FORMAT?.trim().toLowerCase();
  if (v === 'json' || v === 'pretty') return v;
  if (v) throw new RangeError(`YIKA_LOG_FORMAT: expected json or pretty, got "${env.YIKA_LOG_FORMAT}"`);
  return isTty ? 'pretty' : 'json';
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[\w./:@-]+$/.test(v) ? v : JSON.stringify(v);
  if (v && typeof v === 'object' && 'message' in v && 'type' in v) return JSON.stringify((v as { message: unknown }).message); // serialized error: message only
  return JSON.stringify(v);
}

/** Formats one pino JSON line; a line that is not JSON passes through unchanged. */
export function formatLogLine(line: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const t = new Date(typeof o.time === 'number' ? o.time : Date.now());
  const time = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}:${String(t.getSeconds()).padStart(2, '0')}.${String(t.getMilliseconds()).padStart(3, '0')}`;
  const lvl = typeof o.level === 'number' ? o.level : 30;
  let level = LEVELS[lvl] ?? String(lvl);
  if (color) level = `${lvl >= 50 ? '\x1b[31m' : lvl >= 40 ? '\x1b[33m' : lvl >= 30 ? '\x1b[32m' : '\x1b[90m'}${level}\x1b[0m`;
  const fields = Object.entries(o)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  return `${time} ${level} ${String(o.msg ?? '')}${fields ? `  ${fields}` : ''}\n`;
}

/** A pino destination writing readable lines to `out` (default stdout). */
export function prettyDestination(out: NodeJS.WritableStream = process.stdout, color = (out as { isTTY?: boolean }).isTTY === true): DestinationStream {
  return { write: (line: string) => void out.write(formatLogLine(line, color)) };
}
