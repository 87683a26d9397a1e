// yika apdu: raw APDUs to a slot (several = one batch under one lock), for diagnostics.
import { CliUsageError, optionHelp, shownArg, type CliOptionTable } from '../../../common/cli-options.ts';
import { parseSlotId, SLOT_ID_FORMS } from '../../../protocol/slot-id.ts';
import { COMMON_HELP, UsageError, chooseReader, client, guard, parseCommand, print, printJson, table } from '../cli-args.ts';

const OPTIONS = {
  slot: { type: 'string', arg: 'SLOT', help: `the slot (default 1): ${SLOT_ID_FORMS}` },
  power: { type: 'boolean', help: 'power the card on first (cold reset)' },
} as const satisfies CliOptionTable;

const HELP = `Usage: yika apdu [--slot 1|0x11|sam1] [--power] HEX [HEX …] [--json]
${optionHelp(OPTIONS)}
  e.g. yika apdu --power 00A404000C57532E5359532E4444463031

${COMMON_HELP}`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  return guard(async () => {
    const { c, values, positionals } = parseCommand(OPTIONS, args, { positionals: true });
    const slot = values.slot === undefined ? 1 : parseSlotId(values.slot);
    if (slot === undefined) throw new CliUsageError('CLI_BAD_VALUE', `--slot: expected ${SLOT_ID_FORMS}, got ${JSON.stringify(shownArg(values.slot!))}`, '--slot');
    const power = values.power === true;
    const apdus: string[] = [];
    for (const a of positionals) {
      if (/^[0-9a-fA-F\s]+$/.test(a) && a.replace(/\s/g, '').length >= 8) apdus.push(a.replace(/\s/g, ''));
      else throw new UsageError(`"${a.slice(0, 20)}" is not an APDU in hex\n${HELP}`);
    }
    if (!apdus.length) throw new UsageError(HELP);
    const api = client(c);
    const id = await chooseReader(c, api);
    const out: Record<string, unknown> = {};
    if (power) out.power = await api.power(id, slot, 'reset');
    const result = apdus.length === 1 ? { responses: [await api.apdu(id, slot, apdus[0])] } : await api.apduBatch(id, slot, apdus.map((a) => ({ apdu: a })));
    const interrupted = 'interrupted' in result ? result.interrupted : undefined;
    // Cut short by the card leaving: the answers that came back are printed, and the exit code says it failed.
    if (c.json) return printJson({ ...out, ...result }), interrupted ? 1 : 0;
    if (out.power) print(`ATR ${(out.power as { atr?: string }).atr ?? '?'}`);
    print(table(['#', 'COMMAND', 'SW', 'DATA'], result.responses.map((r, i) => [i + 1, apdus[i], r.sw, r.data || '—'])));
    if ('stoppedAt' in result && result.stoppedAt !== undefined) print(`stopped at command ${result.stoppedAt + 1} (status word not 9000)`);
    if (interrupted) {
      process.stderr.write(`yika: ${interrupted.code}: ${interrupted.message}; commands ${result.responses.length + 1}–${apdus.length} were not sent\n`);
      return 1;
    }
    return 0;
  }, args.includes('--json'));
}
