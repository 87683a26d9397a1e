// yika readers: the readers the daemon knows, their health and what is in each slot.
import { COMMON_HELP, client, guard, parseCommon, print, printJson, table } from '../cli-args.ts';

const HELP = `Usage: yika readers [--json]\n\n${COMMON_HELP}`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  const c = parseCommon(args);
  return guard(async () => {
    const readers = await client(c).readers();
    if (c.json) return printJson({ readers }), 0;
    if (!readers.length) return print('No readers. Plug one in, start the daemon with --sim, or run `yika doctor`.'), 0;
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
    return 0;
  }, c.json);
}
