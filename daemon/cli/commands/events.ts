// yika events: tails the daemon's event stream (WebSocket, resumed after every reconnect), one line
// per event; --json gives one JSON object per line for scripts. Stops after --count events or Ctrl-C.
import type { YikaEvent, YikaEventType } from '../../client/index.ts';
import { CliUsageError, optionHelp, shownArg, type CliOptionTable } from '../../../common/cli-options.ts';
import { COMMON_HELP, UsageError, client, guard, parseCommand, print } from '../cli-args.ts';

const TYPES: YikaEventType[] = ['reader.attached', 'reader.detached', 'reader.health', 'card.inserted', 'card.removed', 'qr.scanned'];

const OPTIONS = {
  types: { type: 'string', arg: 'T,T…', help: `only these: ${TYPES.join(', ')}` },
  after: { type: 'string', arg: 'SEQ', help: "first replay the events after SEQ still in the daemon's history" },
  count: { type: 'string', arg: 'N', help: 'stop after N events (exit 0)' },
  reveal: { type: 'boolean', help: 'with --token: show the text of scanned payment, insurance and ID codes (QR.md §13)' },
} as const satisfies CliOptionTable;

const HELP = `Usage: yika events [--types T,T…] [--after SEQ] [--count N] [--reveal] [--json]
${optionHelp(OPTIONS)}
  with --json: one JSON object per line

${COMMON_HELP}`;

/** One human line per event: time, seq, type, what happened (never a QR payload). */
export function eventLine(e: YikaEvent): string {
  const time = e.at.slice(11, 19);
  const what = (() => {
    switch (e.type) {
      case 'reader.attached':
        return `${e.readerId} attached (${e.name})`;
      case 'reader.detached':
        return `${e.readerId} detached${e.reason ? ` (${e.reason})` : ''}`;
      case 'reader.health':
        return `${e.readerId} ${e.health}${e.detail ? `: ${e.detail}` : ''}`;
      case 'card.inserted':
        return `${e.readerId} slot ${e.slot}: card inserted`;
      case 'card.removed':
        return `${e.readerId} slot ${e.slot}: card removed`;
      case 'qr.scanned': {
        const r = e.result as { code?: string; kind?: string; scheme?: string | null; masked?: string | null; text?: string };
        return `${e.readerId ?? '-'} ${r.code} ${r.kind ?? ''}${r.scheme ? '/' + r.scheme : ''}${r.text ? ' ' + r.text : r.masked ? ' ' + r.masked : ''}`;
      }
    }
  })();
  return `${time}  #${e.seq}  ${e.type.padEnd(15)} ${what}`;
}

export interface TailOptions {
  types?: YikaEventType[];
  after?: number;
  count?: number;
  reveal?: boolean;
  /** Called once connected (before the replay and live events are delivered to onEvent in order). */
  onConnect?: () => Promise<void> | void;
  onEvent(e: YikaEvent): void;
}

/** Subscribes until `count` events or a signal; resolves with the exit code. */
export function tail(api: ReturnType<typeof client>, o: TailOptions): Promise<number> {
  return new Promise((resolve) => {
    let seen = 0;
    let failures = 0;
    const sub = api.events(
      {
        types: o.types,
        after: o.after,
        reveal: o.reveal ? 'codes' : undefined,
        onConnect: () => {
          failures = 0;
          if (o.onConnect) Promise.resolve(o.onConnect()).catch((e: Error) => {
            process.stderr.write(`yika: ${(e as { code?: string }).code ?? 'ERROR'}: ${e.message}\n`);
            stop(1);
          });
        },
        onDisconnect: (info) => {
          // A daemon that was never reachable: say so once and stop (exit 3), like every command.
          if (++failures >= 3 && seen === 0) {
            process.stderr.write(`yika: DAEMON_UNREACHABLE: no event stream at ${api.baseUrl} (${info.reason || `code ${info.code}`})\n`);
            stop(3);
          }
        },
      },
      (e) => {
        o.onEvent(e);
        if (o.count !== undefined && ++seen >= o.count) stop(0);
      },
    );
    const stop = (code: number): void => {
      sub.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(code);
    };
    const onSignal = (): void => stop(0);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function parseTypes(v: string): YikaEventType[] {
  const types = v.split(',').map((t) => t.trim()) as YikaEventType[];
  for (const t of types) if (!TYPES.includes(t)) throw new CliUsageError('CLI_BAD_VALUE', `--types: unknown event type ${JSON.stringify(shownArg(t))} (${TYPES.join(', ')})`, '--types');
  return types;
}

export function parseCount(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new CliUsageError('CLI_BAD_VALUE', `${name}: expected a whole number, got ${JSON.stringify(shownArg(v))}`, name);
  return Number(v);
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  return guard(async () => {
    const { c, values } = parseCommand(OPTIONS, args);
    const o = { types: values.types === undefined ? undefined : parseTypes(values.types), after: parseCount(values.after, '--after'), count: parseCount(values.count, '--count'), reveal: values.reveal === true };
    if (o.reveal && !c.token) throw new UsageError('--reveal needs --token (or YIKA_TOKEN): payment codes are shown only to the API token holder');
    return tail(client(c), { ...o, onEvent: (e) => print(c.json ? JSON.stringify(e) : eventLine(e)) });
  }, args.includes('--json'));
}
