// What every `yika` command shares: the common flags (--url, --token, --json, --reader), the client,
// choosing the reader when there is only one, printing tables, and turning errors into exit codes.
import { YikaApiError, YikaClient } from '../client/index.ts';
import type { Reader } from '../client/index.ts';
import { isLoopbackAddress } from '../api/api-config.ts';
import { defaultTokenFile, readTokenFile } from '../config/token-file.ts';

export interface CommonArgs {
  url: string;
  token?: string;
  json: boolean;
  reader?: string;
  /** Everything that is not a common flag, in order. */
  rest: string[];
}

export const COMMON_HELP = `Common options:
  --url URL        the daemon (env YIKA_URL; default http://127.0.0.1:7611)
  --token TOKEN    bearer token (env YIKA_TOKEN); for a daemon on this machine the default is
                   the token yikad generated (env YIKA_TOKEN_FILE, default
                   $XDG_RUNTIME_DIR/yika/api-token or ~/.local/state/yika/api-token)
  -r, --reader ID  the reader (default: the only one, or the only one with a card)
  --json           machine-readable output`;

export function parseCommon(args: string[], env: NodeJS.ProcessEnv = process.env): CommonArgs {
  const out: CommonArgs = { url: env.YIKA_URL || 'http://127.0.0.1:7611', token: env.YIKA_TOKEN || undefined, json: false, rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    if (name === '--url') out.url = value();
    else if (name === '--token') out.token = value();
    else if (name === '--json') out.json = true;
    else if (name === '-r' || name === '--reader') out.reader = value();
    else out.rest.push(a);
  }
  out.url = out.url.replace(/\/+$/, '');
  // The token file belongs to the daemon on this machine: never send it to another one.
  if (!out.token && isLocalUrl(out.url)) out.token = readTokenFile(defaultTokenFile(env));
  return out;
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

/** Runs a command body; maps failures to exit codes: 1 the daemon refused, 2 usage, 3 daemon unreachable. */
export async function guard(fn: () => Promise<number>, json = false): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`yika: ${e.message}\n`);
      return 2;
    }
    if (e instanceof YikaApiError) {
      if (json) process.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message, details: e.details } }) + '\n');
      else process.stderr.write(`yika: ${e.code}: ${e.message}\n`);
      return e.code === 'DAEMON_UNREACHABLE' || e.code === 'DAEMON_TIMEOUT' ? 3 : 1;
    }
    throw e;
  }
}

export function parseSlot(text: string): number {
  const n = /^0x/i.test(text) ? parseInt(text.slice(2), 16) : /^sam(\d)$/i.test(text) ? 0x10 + Number(text.slice(3)) : Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new UsageError(`bad slot "${text}" (1, 0x11, sam1 …)`);
  return n;
}
