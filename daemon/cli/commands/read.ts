// yika read: reads the health card in a reader and prints every item (number, name, value).
import { COMMON_HELP, UsageError, chooseReader, client, guard, parseCommon, print, printJson, table } from '../cli-args.ts';

const HELP = `Usage: yika read [--files DDF1/EF05,DDF1/EF06] [--json]\n\n${COMMON_HELP}`;

interface FileOut {
  file: string;
  nameZh: string;
  items: Array<{ item: number; field: string; nameZh: string; value: string | null }>;
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  const c = parseCommon(args);
  let files: string[] | undefined;
  for (let i = 0; i < c.rest.length; i++) {
    if (c.rest[i] === '--files') files = (c.rest[++i] ?? '').split(',').filter(Boolean);
    else if (c.rest[i].startsWith('--files=')) files = c.rest[i].slice(8).split(',').filter(Boolean);
    else return guard(async () => { throw new UsageError(`unexpected "${c.rest[i]}"\n${HELP}`); });
  }
  return guard(async () => {
    const api = client(c);
    const id = await chooseReader(c, api);
    const result = (await api.readHealthCard(id, { files })) as { files: Record<string, FileOut>; durationMs: number; apdus: number; roundTrips: number; atr: string };
    if (c.json) return printJson(result), 0;
    for (const f of Object.values(result.files)) {
      print(`${f.file}  ${f.nameZh}`);
      print(table(['ITEM', 'FIELD', '名称', 'VALUE'], f.items.map((it) => [it.item, it.field, it.nameZh, it.value ?? '—'])));
      print('');
    }
    print(`reader ${id}, ATR ${result.atr}: ${result.apdus} APDUs in ${result.roundTrips} round trips, ${result.durationMs} ms`);
    return 0;
  }, c.json);
}
