// yika items: reads data items by number, like the hospital "by item" API (optionally joined by |).
import { optionHelp, type CliOptionTable } from '../../../common/cli-options.ts';
import { COMMON_HELP, UsageError, chooseReader, client, guard, parseCommand, print, printJson, table } from '../cli-args.ts';

const OPTIONS = {
  pipe: { type: 'boolean', help: 'the values joined by | (the hospital interface form)' },
} as const satisfies CliOptionTable;

const HELP = `Usage: yika items ITEM[,ITEM…] [ITEM …] [--pipe] [--json]\n${optionHelp(OPTIONS)}\n  e.g. yika items 1,3,8 --pipe\n\n${COMMON_HELP}`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  return guard(async () => {
    const { c, values, positionals: words } = parseCommand(OPTIONS, args, { positionals: true });
    const pipe = values.pipe === true;
    const ids = words.flatMap((w) => w.split(',')).filter(Boolean).map((s) => {
      if (!/^\d+$/.test(s)) throw new UsageError(`"${s}" is not an item number\n${HELP}`);
      return Number(s);
    });
    if (!ids.length) throw new UsageError(HELP);
    const api = client(c);
    const id = await chooseReader(c, api);
    const result = (await api.readItems(id, ids)) as unknown as { items: Array<{ itemNo: number; field: string; nameZh: string; value: string | null }>; pipe: string };
    if (c.json) return printJson(result), 0;
    if (pipe) return print(result.pipe), 0;
    print(table(['ITEM', 'FIELD', '名称', 'VALUE'], result.items.map((it) => [it.itemNo, it.field, it.nameZh, it.value ?? '—'])));
    return 0;
  }, args.includes('--json'));
}
