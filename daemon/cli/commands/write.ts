// yika write: writes data items (ITEM=VALUE …; ITEM=null erases). The daemon validates every value
// before touching the card and reports what was and was not written.
import { COMMON_HELP, UsageError, chooseReader, client, guard, parseCommand, print, printJson } from '../cli-args.ts';

const HELP = `Usage: yika write ITEM=VALUE [ITEM=VALUE …] [--json]\n  Items are numbered as the standard's data items (= TLV tags): 16 phone 1, 22 address 1 …
  e.g. yika write 16=13800000000 22="北京市海淀区…"   (ITEM=null erases)\n\n${COMMON_HELP}`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  return guard(async () => {
    const { c, positionals } = parseCommand({}, args, { positionals: true });
    const items: Record<string, string | null> = {};
    for (const w of positionals) {
      const m = /^(\d{1,3})=(.*)$/s.exec(w);
      if (!m) throw new UsageError(`"${w.slice(0, 20)}" is not ITEM=VALUE\n${HELP}`);
      items[m[1]] = m[2] === 'null' ? null : m[2];
    }
    if (!Object.keys(items).length) throw new UsageError(HELP);
    const api = client(c);
    const id = await chooseReader(c, api);
    const result = await api.writeItems(id, items);
    if (c.json) return printJson(result), 0;
    const w = (result as { written?: { files: string[]; items: number[] } }).written;
    print(w ? `written to reader ${id}: items ${w.items.join(', ')} in ${w.files.join(', ')}` : JSON.stringify(result));
    return 0;
  }, args.includes('--json'));
}
