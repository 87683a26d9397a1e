// What every `yika` command shares: the common flags (--url, --token, --json, --reader) and the one
// argument parser under them, the client,
// choosing the reader when there is only one, printing tables, and turning errors into exit codes.
import { YikaApiError, YikaClient } from '../client/index.ts';
import type { Reader } from '../client/index.ts';
import { isLoopbackAddress } from '../api/api-config.ts';
import { defaultTokenFile, readTokenFile } from '../config/token-file.ts';
import { CliUsageError, optionHelp, parseCliOptions, type CliOptionTable, type CliValues } from '../../common/cli-options.ts';
import { isYikaError } from '../../common/yika-error.ts';

export interface CommonArgs {
  url: string;
  token?: string;
  json: boolean;
  reader?: string;
}

const COMMON_OPTIONS = {
  url: { type: 'string', arg: 'URL', help: 'the daemon (env YIKA_URL; default http://127.0.0.1:7611)' },
  token: {
    type: 'string',
    arg: 'TOKEN',
    help: 'bearer token (env YIKA_TOKEN); for a daemon on this machine the default is\nthe token yikad generated (env YIKA_TOKEN_FILE, default\n$XDG_RUNTIME_DIR/yika/api-token or ~/.local/state/yika/api-token)',
  },
  reader: { type: 'string', short: 'r', arg: 'ID', help: 'the reader (default: the only one, or the only one with a card)' },
  json: { type: 'boolean', help: 'machine-readable output' },
  // Every command answers --help before parsing (so it works beside a bad flag); listed by each.
  help: { type: 'boolean', short: 'h' },
} as const satisfies CliOptionTable;

export const COMMON_HELP = `Common options:\n${optionHelp(COMMON_OPTIONS)}`;

/**
 * A command's argv through the one parser (common/cli-options.ts): the common flags and the command's
 * own in one table. A bad flag is a CliUsageError (exit 2, one line; see reportError).
 */
export function parseCommand<T extends CliOptionTable>(
  options: T,
  args: string[],
  o: { positionals?: boolean; env?: NodeJS.ProcessEnv } = {},
): { c: CommonArgs; values: CliValues<T>; positionals: string[] } {
  const env = o.env ?? process.env;
  const parsed = parseCliOptions({ ...COMMON_OPTIONS, ...options }, args, { positionals: o.positionals });
  const values = parsed.values as CliValues<typeof COMMON_OPTIONS> & CliValues<T>;
  const c: CommonArgs = { url: (values.url ?? (env.YIKA_URL || 'http://127.0.0.1:7611')).replace(/\/+$/, ''), token: values.token ?? (env.YIKA_TOKEN || undefined), json: values.json === true };
  if (values.reader !== undefined) c.reader = values.reader;
  // The token file belongs to the daemon on this machine: never send it to another one.
  if (!c.token && isLocalUrl(c.url)) c.token = readTokenFile(defaultTokenFile(env));
  return { c, values, positionals: parsed.positionals };
}

function isLocalUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || isLoopbackAddress(host);
  } catch {
    return false;
  }
}

export class UsageError extends Error {}

export function client(c: CommonArgs): YikaClient {
  return new YikaClient({ baseUrl: c.url, token: c.token, timeoutMs: 15_000 });
}

/** The reader to use: --reader, else the only reader, else the only one with a card in its user slot. */
export async function chooseReader(c: CommonArgs, api: YikaClient): Promise<string> {
  if (c.reader) return c.reader;
  const readers = await api.readers();
  if (readers.length === 1) return readers[0].id;
  if (readers.length === 0) throw new UsageError('no reader is connected to the daemon (see `yika doctor`)');
  const withCard = readers.filter((r: Reader) => r.slots.some((s) => s.kind !== 'sam' && s.card !== 'absent'));
  if (withCard.length === 1) return withCard[0].id;
  throw new UsageError(`several readers: choose one with --reader (${readers.map((r) => r.id).join(', ')})`);
}

/** Left-aligned text table; widths by the longest cell (CJK counted double). */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const width = (s: string) => [...s].reduce((n, ch) => n + (/[\u1100-\uFFEF]/.test(ch) ? 2 : 1), 0);
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => width(r[i] ?? ''))));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - width(c)))).join('  ').trimEnd())
    .join('\n');
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * The CLI's exit codes, for every command (README, QR.md §9):
 *   0 success · 1 refused (by the daemon, or a local check with a stable code) · 2 usage (bad flags,
 *   a file that cannot be read) · 3 daemon unreachable or not answering.
 * Every failure is one line on stderr (`yika: CODE: message`, or one JSON object with --json), never a
 * stack trace; YIKA_DEBUG=1 adds the stack for bug reports.
 */
export function reportError(e: unknown, json = false): number {
  const { code, message, exit, details } = classifyError(e);
  if (json) process.stdout.write(JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } }) + '\n');
  else process.stderr.write(code === 'USAGE' ? `yika: ${message}\n` : `yika: ${code}: ${message}\n`);
  if (process.env.YIKA_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return exit;
}

function classifyError(e: unknown): { code: string; message: string; exit: number; details?: unknown } {
  if (e instanceof UsageError) return { code: 'USAGE', message: e.message, exit: 2 };
  if (e instanceof CliUsageError) return { code: e.code, message: e.message, exit: 2 };
  if (e instanceof YikaApiError) {
    return { code: e.code, message: e.message, exit: e.code === 'DAEMON_UNREACHABLE' || e.code === 'DAEMON_TIMEOUT' ? 3 : 1, details: e.details };
  }
  if (isYikaError(e)) return { code: e.code, message: e.message, exit: 1 };
  const sys = e as NodeJS.ErrnoException;
  if (sys && typeof sys.code === 'string' && typeof sys.syscall === 'string') {
    // A file named on the command line that cannot be read or written: a usage problem, said plainly.
    const what = sys.path ? `${sys.path}: ` : '';
    const why: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'not a directory', EEXIST: 'already exists' };
    if (sys.path) return { code: 'FILE_UNREADABLE', message: `${what}${why[sys.code] ?? sys.code}`, exit: 2 };
    return { code: 'SYSTEM_ERROR', message: `${sys.syscall}: ${why[sys.code] ?? sys.code}`, exit: 1 };
  }
  if (e instanceof TypeError && /fetch failed/.test(e.message)) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { code: 'DAEMON_UNREACHABLE', message: `could not connect (${cause?.code ?? cause?.message ?? 'network error'})`, exit: 3 };
  }
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), exit: 1 };
}

/** Runs a command body; every failure becomes one line and its exit code (see reportError). */
export async function guard(fn: () => Promise<number>, json = false): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    return reportError(e, json);
  }
}
