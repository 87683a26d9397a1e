// yika readers: the readers the daemon knows, their health and what is in each slot. With --watch
// (what pcsc_scan gives an admin): the table, then one line per reader or card change until Ctrl-C.
import { COMMON_HELP, UsageError, client, guard, parseCommon, print, printJson, table } from '../cli-args.ts';
import type { YikaEvent } from '../../client/index.ts';
import { eventLine, parseCount, tail } from './events.ts';

const HELP = `Usage: yika readers [--watch [--count N]] [--json]
  --watch      then print every reader and card change as it happens (Ctrl-C stops)
  --count N    with --watch: stop after N changes

${COMMON_HELP}`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  const c = parseCommon(args);
  return guard(async () => {
    let watch = false;
    let count: number | undefined;
    for (let i = 0; i < c.rest.length; i++) {
      if (c.rest[i] === '--watch' || c.rest[i] === '-w') watch = true;
      else if (c.rest[i] === '--count') count = parseCount(c.rest[++i], '--count');
      else throw new UsageError(`unknown option "${c.rest[i]}"\n\n${HELP}`);
    }
    const api = client(c);
    if (watch) {
      // Subscribe first and print the table once connected; changes that arrive meanwhile wait, so
      // none is lost between the table and the first line.
      let pending: YikaEvent[] | undefined = [];
      const show = (e: YikaEvent) => print(c.json ? JSON.stringify(e) : eventLine(e));
      return tail(api, {
        types: ['reader.attached', 'reader.detached', 'reader.health', 'card.inserted', 'card.removed'],
        count,
        onConnect: async () => {
          if (!pending) return;
          const now = await api.readers();
          if (c.json) printJson({ readers: now });
          else printReaders(now);
          for (const e of pending) show(e);
          pending = undefined;
        },
        onEvent: (e) => (pending ? pending.push(e) : show(e)),
      });
    }
    const readers = await api.readers();
    if (c.json) return printJson({ readers }), 0;
    printReaders(readers);
    return 0;
  }, c.json);
}

function printReaders(readers: Awaited<ReturnType<ReturnType<typeof client>['readers']>>): void {
  {
    if (!readers.length) return print('No readers. Plug one in, start the daemon with --sim, or run `yika doctor`.');
    print(
      table(
        ['ID', 'NAME', 'KIND', 'HEALTH', 'SECURE', 'SLOTS'],
        readers.map((r) => [
          r.id,
          r.name,
          r.kind,
          r.health + (r.healthDetail ? ` (${r.healthDetail})` : ''),
          r.secureChannel.state,
          r.slots.map((s) => `${s.label}:${s.card}`).join(' '),
        ]),
      ),
    );
  }
}
