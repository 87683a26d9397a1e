// yika readers: the readers the daemon knows, their health and what is in each slot. With --watch
// (what pcsc_scan gives an admin): the table, then one line per reader or card change until Ctrl-C.
import { optionHelp, type CliOptionTable } from '../../../common/cli-options.ts';
import { COMMON_HELP, client, guard, parseCommand, print, printJson, table } from '../cli-args.ts';
import type { YikaEvent } from '../../client/index.ts';
import { eventLine, parseCount, tail } from './events.ts';

const OPTIONS = {
  watch: { type: 'boolean', short: 'w', help: 'then print every reader and card change as it happens (Ctrl-C stops)' },
  count: { type: 'string', arg: 'N', help: 'with --watch: stop after N changes' },
} as const satisfies CliOptionTable;

const HELP = `Usage: yika readers [--watch [--count N]] [--json]
${optionHelp(OPTIONS)}

${COMMON_HELP}`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  return guard(async () => {
    const { c, values } = parseCommand(OPTIONS, args);
    const count = parseCount(values.count, '--count');
    const api = client(c);
    if (values.watch) {
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
  }, args.includes('--json'));
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
