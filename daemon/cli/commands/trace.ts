// yika trace: shows the APDU trace of a reader, or switches it (on, off, clear; --unmasked shows card data).
import { optionHelp, type CliOptionTable } from '../../../common/cli-options.ts';
import { COMMON_HELP, UsageError, chooseReader, client, guard, parseCommand, print, printJson } from '../cli-args.ts';

const OPTIONS = {
  unmasked: { type: 'boolean', help: 'also show card data (secrets such as PINs stay masked)' },
  masked: { type: 'boolean', help: 'mask card data again' },
  timing: { type: 'boolean', help: 'with show: how long each exchange took (ms)' },
} as const satisfies CliOptionTable;

const HELP = `Usage: yika trace [show|on|off|clear] [--unmasked|--masked] [--timing] [--json]
  show (default)  print the trace: [slot] A>> command / A<< response, secrets masked
  on | off        switch tracing at run time
  clear           forget the recorded lines
${optionHelp(OPTIONS)}

${COMMON_HELP}`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  return guard(async () => {
    const { c, values, positionals: verbs } = parseCommand(OPTIONS, args, { positionals: true });
    const verb = verbs[0] ?? 'show';
    if (verbs.length > 1 || !['show', 'on', 'off', 'clear'].includes(verb)) throw new UsageError(HELP);
    const api = client(c);
    const id = await chooseReader(c, api);
    const path = `/v1/readers/${encodeURIComponent(id)}/trace`;
    const update: Record<string, boolean> = {};
    if (verb === 'on') update.enabled = true;
    if (verb === 'off') update.enabled = false;
    if (verb === 'clear') update.clear = true;
    if (values.unmasked) update.maskData = false;
    if (values.masked) update.maskData = true;
    if (Object.keys(update).length) {
      const settings = await api.request<{ enabled: boolean; maskData: boolean }>('PUT', path, update);
      if (c.json) return printJson(settings), 0;
      print(`trace of ${id}: ${settings.enabled ? 'on' : 'off'}, card data ${settings.maskData ? 'masked' : 'shown'}`);
      return 0;
    }
    const trace = await api.request<{ enabled: boolean; maskData: boolean; text: string; entries: unknown[] }>('GET', `${path}${values.timing ? '?timing=true' : ''}`);
    if (c.json) return printJson(trace), 0;
    if (!trace.text) print(`(trace of ${id} is empty; it is ${trace.enabled ? 'on' : 'off'}${trace.enabled ? '' : ' — `yika trace on`'})`);
    else print(trace.text);
    return 0;
  }, args.includes('--json'));
}
