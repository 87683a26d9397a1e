// The one command-line parser of every Yika CLI (yikad, yika and its commands, yika-sim, the scripts):
// node:util parseArgs under a table of options that also writes the help text. It accepts `--a=b` and
// `--a b`, short aliases (`-h`), repeatable flags (in order), `--no-x` for the booleans that declare it,
// a fixed list of values; everything else is a CliUsageError with a stable code and a one-line message
// naming the flag. A leaf: imports nothing of ours but the error base, so daemon/ and firmware-sim/ share it.
import { parseArgs } from 'node:util';
import { defineErrorCodes } from './error-catalog.ts';
import { YikaError } from './yika-error.ts';

export const CLI_ERRORS = defineErrorCodes('common/cli', {
  CLI_UNKNOWN_OPTION: { kind: 'bad_request', zh: '未知的命令行选项：请用 --help 查看可用的选项。', description: 'A command-line flag the program does not know; --help lists them.' },
  CLI_MISSING_VALUE: { kind: 'bad_request', zh: '命令行选项缺少取值。', description: 'A command-line flag that takes a value was given none (a value starting with "-" is written --flag=-value).' },
  CLI_BAD_VALUE: { kind: 'bad_request', zh: '命令行选项的取值无效。', description: 'A command-line flag has a value it does not accept (the message names the flag and what it expects).' },
  CLI_UNEXPECTED_ARGUMENT: { kind: 'bad_request', zh: '多余的命令行参数。', description: 'A word on the command line that is neither a flag nor an argument the command takes.' },
});

export class CliUsageError extends YikaError {
  constructor(
    code: keyof typeof CLI_ERRORS,
    message: string,
    /** The flag (or argument) at fault, as typed. */
    readonly option: string,
  ) {
    super(code, message, { option });
  }
}

export interface CliOption {
  readonly type: 'string' | 'boolean';
  /** One letter: `-h` for `--help`. */
  readonly short?: string;
  /** A string flag that may be given again: the values in order (always an array, maybe empty). */
  readonly multiple?: boolean;
  /** A boolean that `--no-NAME` sets to false. */
  readonly negatable?: boolean;
  /** The only values a string flag accepts. */
  readonly choices?: readonly string[];
  /** The value's name in the help: `--listen HOST:PORT`. */
  readonly arg?: string;
  /** Its help (lines separated by \n); a flag without help is accepted but not listed. */
  readonly help?: string;
  /** The help of `--no-NAME` (negatable booleans). */
  readonly helpNo?: string;
}

export type CliOptionTable = Readonly<Record<string, CliOption>>;

export type CliValues<T extends CliOptionTable> = {
  -readonly [K in keyof T]: T[K] extends { multiple: true } ? string[] : T[K] extends { type: 'boolean' } ? boolean | undefined : string | undefined;
};

interface OptionToken {
  kind: 'option';
  name: string;
  rawName: string;
  value?: string;
  inlineValue?: boolean;
}
type Token = OptionToken | { kind: 'positional'; value: string } | { kind: 'option-terminator' };

/** A word as it may appear in a one-line message: short and printable, quoted when it is not a plain flag. */
export function shownArg(word: string): string {
  if (/^[\x21-\x7e]{1,40}$/.test(word)) return word;
  return JSON.stringify(word.length > 40 ? `${word.slice(0, 40)}…` : word);
}

/** Parses argv (without node and the script) against the table; throws CliUsageError. */
export function parseCliOptions<T extends CliOptionTable>(table: T, argv: readonly string[], o: { positionals?: boolean } = {}): { values: CliValues<T>; positionals: string[] } {
  const nodeOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  const owners = new Map<string, { name: string; negated: boolean }>();
  for (const [name, spec] of Object.entries(table)) {
    nodeOptions[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
    owners.set(name, { name, negated: false });
    if (spec.negatable) {
      nodeOptions[`no-${name}`] = { type: 'boolean' };
      owners.set(`no-${name}`, { name, negated: true });
    }
  }
  // strict: false, so that every problem is ours to word (naming the flag) rather than node's.
  const { tokens } = parseArgs({ args: [...argv], options: nodeOptions, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) if (spec.multiple) values[name] = [];
  const positionals: string[] = [];
  for (const t of tokens as Token[]) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (!o.positionals) throw new CliUsageError('CLI_UNEXPECTED_ARGUMENT', `unexpected argument ${shownArg(t.value)}`, t.value);
      positionals.push(t.value);
      continue;
    }
    const owner = owners.get(t.name);
    if (!owner || !Object.hasOwn(table, owner.name)) throw new CliUsageError('CLI_UNKNOWN_OPTION', `unknown option ${shownArg(t.rawName)}`, t.rawName);
    const spec = table[owner.name];
    if (spec.type === 'boolean') values[owner.name] = booleanValue(t, owner.negated);
    else if (spec.multiple) (values[owner.name] as string[]).push(stringValue(t, spec));
    else values[owner.name] = stringValue(t, spec);
  }
  return { values: values as CliValues<T>, positionals };
}

function booleanValue(t: OptionToken, negated: boolean): boolean {
  if (t.value !== undefined) throw new CliUsageError('CLI_BAD_VALUE', `${shownArg(t.rawName)} takes no value`, t.rawName);
  return !negated;
}

function stringValue(t: OptionToken, spec: CliOption): string {
  const flag = shownArg(t.rawName);
  if (t.value === undefined) throw new CliUsageError('CLI_MISSING_VALUE', `${flag} needs a value`, t.rawName);
  // `--listen --sim`: the next word is a flag, not the value that was forgotten.
  if (!t.inlineValue && t.value.startsWith('-') && t.value !== '-') {
    throw new CliUsageError('CLI_MISSING_VALUE', `${flag} needs a value (one that starts with "-" is written ${flag}=${shownArg(t.value)})`, t.rawName);
  }
  if (spec.choices && !spec.choices.includes(t.value)) {
    throw new CliUsageError('CLI_BAD_VALUE', `${flag}: expected ${orList(spec.choices)}, got ${JSON.stringify(shownArg(t.value))}`, t.rawName);
  }
  return t.value;
}

function orList(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** A number-valued flag: undefined stays undefined; anything but a finite number is CLI_BAD_VALUE. */
export function numberOption(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new CliUsageError('CLI_BAD_VALUE', `${flag}: expected a number, got ${JSON.stringify(shownArg(text))}`, flag);
  return n;
}

/** The options part of a help text, from the same table: `  -h, --help  this text`, help aligned in one column. */
export function optionHelp(table: CliOptionTable): string {
  const rows: Array<[string, string]> = [];
  for (const [name, spec] of Object.entries(table)) {
    const arg = spec.type === 'string' ? ` ${spec.arg ?? 'VALUE'}` : '';
    if (spec.help) rows.push([`${spec.short ? `-${spec.short}, ` : ''}--${name}${arg}`, spec.help]);
    if (spec.negatable && spec.helpNo) rows.push([`--no-${name}`, spec.helpNo]);
  }
  const width = Math.max(0, ...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, text]) => text.split('\n').map((line, i) => `  ${(i === 0 ? left : '').padEnd(width)}${line}`.trimEnd()).join('\n')).join('\n');
}
