// yika read: reads the health card in a reader (the desk's files, or --all) and prints every item.
import { optionHelp, type CliOptionTable } from '../../../common/cli-options.ts';
import { COMMON_HELP, UsageError, chooseReader, client, guard, parseCommand, print, printJson, table } from '../cli-args.ts';

const OPTIONS = {
  all: { type: 'boolean', help: 'every file' },
  files: { type: 'string', arg: 'FILE,FILE…', help: 'these files, e.g. EF05,EF06,DF01/EF05' },
} as const satisfies CliOptionTable;

const HELP = `Usage: yika read [--all | --files EF05,EF06,DF01/EF05 …] [--json]\n  default: what a desk needs (DDF1/EF05 card data, EF06 cardholder, EF07 photo)\n${optionHelp(OPTIONS)}\n\n${COMMON_HELP}`;

interface ItemOut {
  itemNo: number;
  field: string;
  nameZh: string;
  value: string | null;
}

interface FileOut {
  kind: 'tlv' | 'photo' | 'records' | 'index' | 'visit';
  file: string;
  nameZh: string;
  items?: ItemOut[];
  length?: number;
  records?: Array<{ record: number; items: ItemOut[] }>;
  flags?: Array<{ record: number; visitFile: string; valid: boolean }>;
  valid?: boolean;
}

const ITEM_HEAD = ['ITEM', 'FIELD', '名称', 'VALUE'];
const itemRows = (items: ItemOut[]) => items.map((it) => [it.itemNo, it.field, it.nameZh, it.value ?? '—']);

/** One file as text: items as a table, the photo as its size, records and visits with their numbers. */
export function renderFile(f: FileOut): string {
  const head = `${f.file}  ${f.nameZh}`;
  switch (f.kind) {
    case 'photo':
      return `${head}\n${f.length ? `JPEG, ${f.length} bytes` : 'no photo'}`;
    case 'records':
      return [head, ...(f.records?.length ? f.records.map((r) => `record ${r.record}\n${table(ITEM_HEAD, itemRows(r.items))}`) : ['no records'])].join('\n');
    case 'index':
      return `${head}\n${table(['RECORD', 'FILE', 'VALID'], (f.flags ?? []).map((x) => [x.record, x.visitFile, x.valid ? 'yes' : 'no (empty)']))}`;
    case 'visit':
      return f.valid === false ? `${head}\nempty (index flag FF)` : `${head}\n${table(ITEM_HEAD, itemRows((f.items ?? []).filter((i) => i.value !== null)))}`;
    default:
      return `${head}\n${table(ITEM_HEAD, itemRows(f.items ?? []))}`;
  }
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  return guard(async () => {
    const { c, values } = parseCommand(OPTIONS, args);
    if (values.all && values.files !== undefined) throw new UsageError('--all or --files, not both');
    const files = values.all ? ['all'] : values.files?.split(',').filter(Boolean);
    const api = client(c);
    const id = await chooseReader(c, api);
    const result = (await api.readHealthCard(id, { files })) as unknown as { files: Record<string, FileOut>; durationMs: number; apdus: number; roundTrips: number; atr: string };
    if (c.json) return printJson(result), 0;
    for (const f of Object.values(result.files)) print(renderFile(f) + '\n');
    print(`reader ${id}, ATR ${result.atr}: ${result.apdus} APDUs in ${result.roundTrips} round trips, ${result.durationMs} ms`);
    return 0;
  }, args.includes('--json'));
}
