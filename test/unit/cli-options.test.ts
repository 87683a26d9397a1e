// The shared command-line parser (common/cli-options.ts): known answers for each form a flag can take,
// the help text from the same table, and a fuzz over random argv: a result or a CliUsageError with a
// stable code and a one-line message naming the flag, never anything else.
import { describe, expect, it, vi } from 'vitest';
import { CLI_ERRORS, CliUsageError, numberOption, optionHelp, parseCliOptions, type CliOptionTable } from '../../common/cli-options.ts';

const TABLE = {
  listen: { type: 'string', arg: 'HOST:PORT', help: 'where the API listens' },
  sim: { type: 'boolean', help: 'the simulated reader' },
  serial: { type: 'string', multiple: true, arg: 'PATH', help: 'a serial reader (repeatable)' },
  secure: { type: 'string', arg: 'POLICY', choices: ['required', 'preferred', 'off'], help: 'secure channel\nfor serial readers' },
  pcsc: { type: 'boolean', negatable: true, helpNo: 'no PC/SC readers' },
  reader: { type: 'string', short: 'r', arg: 'ID', help: 'the reader' },
  help: { type: 'boolean', short: 'h', help: 'this text' },
  hidden: { type: 'string' },
} as const satisfies CliOptionTable;

function errorOf(f: () => unknown): CliUsageError {
  try {
    f();
  } catch (e) {
    if (e instanceof CliUsageError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('parseCliOptions', () => {
  it('takes --a=b and --a b alike, short aliases, repeatable flags in order, --no-x, positionals after --', () => {
    const spaced = parseCliOptions(TABLE, ['--listen', '127.0.0.1:0', '--serial', '/dev/a', '-r', 'sim-1', '--serial', '/dev/b', '--no-pcsc', '--sim']);
    const inline = parseCliOptions(TABLE, ['--listen=127.0.0.1:0', '--serial=/dev/a', '-rsim-1', '--serial=/dev/b', '--no-pcsc', '--sim']);
    expect(spaced).toEqual(inline);
    expect(spaced.values).toEqual({ listen: '127.0.0.1:0', serial: ['/dev/a', '/dev/b'], reader: 'sim-1', pcsc: false, sim: true });
    expect(parseCliOptions(TABLE, ['--pcsc']).values.pcsc).toBe(true);
    expect(parseCliOptions(TABLE, ['--no-pcsc', '--pcsc']).values.pcsc).toBe(true);
    expect(parseCliOptions(TABLE, []).values).toEqual({ serial: [] });
    expect(parseCliOptions(TABLE, ['--listen', 'a', '--listen', 'b']).values.listen).toBe('b');
    expect(parseCliOptions(TABLE, ['--listen=--x']).values.listen).toBe('--x');
    expect(parseCliOptions(TABLE, ['a', '--', '--sim'], { positionals: true })).toEqual({ values: { serial: [] }, positionals: ['a', '--sim'] });
    expect(parseCliOptions(TABLE, ['--secure', 'off']).values.secure).toBe('off');
  });

  it('refuses with a stable code and one line naming the flag', () => {
    const cases: Array<[string[], string, RegExp]> = [
      [['--frob'], 'CLI_UNKNOWN_OPTION', /^unknown option --frob$/],
      [['-x'], 'CLI_UNKNOWN_OPTION', /^unknown option -x$/],
      [['--no-sim'], 'CLI_UNKNOWN_OPTION', /--no-sim/],
      [['--listen'], 'CLI_MISSING_VALUE', /^--listen needs a value$/],
      [['--listen', '--sim'], 'CLI_MISSING_VALUE', /^--listen needs a value \(one that starts with "-" is written --listen=--sim\)$/],
      [['-r'], 'CLI_MISSING_VALUE', /^-r needs a value/],
      [['--sim=yes'], 'CLI_BAD_VALUE', /^--sim takes no value$/],
      [['--secure', 'maybe'], 'CLI_BAD_VALUE', /^--secure: expected required, preferred or off, got "maybe"$/],
      [['extra'], 'CLI_UNEXPECTED_ARGUMENT', /^unexpected argument extra$/],
      [['--fr\nob'], 'CLI_UNKNOWN_OPTION', /^unknown option "--fr\\nob"$/],
    ];
    for (const [argv, code, message] of cases) {
      const e = errorOf(() => parseCliOptions(TABLE, argv));
      expect([e.code, e.message], argv.join(' ')).toEqual([code, expect.stringMatching(message)]);
    }
  });

  it('numberOption: a finite number or CLI_BAD_VALUE', () => {
    expect(numberOption('0.5', '--speed')).toBe(0.5);
    expect(numberOption(undefined, '--speed')).toBeUndefined();
    for (const bad of ['', ' ', 'x', 'Infinity', '1e999']) expect(errorOf(() => numberOption(bad, '--speed')).message).toMatch(/^--speed: expected a number, got "/);
  });

  it('help comes from the same table: listed flags in one column, hidden ones not', () => {
    expect(optionHelp(TABLE)).toBe(
      [
        '  --listen HOST:PORT  where the API listens',
        '  --sim               the simulated reader',
        '  --serial PATH       a serial reader (repeatable)',
        '  --secure POLICY     secure channel',
        '                      for serial readers',
        '  --no-pcsc           no PC/SC readers',
        '  -r, --reader ID     the reader',
        '  -h, --help          this text',
      ].join('\n'),
    );
  });
});

describe('parseCliOptions fuzz', () => {
  // A small seeded generator (xorshift32): the same argv every run, so a failure reproduces.
  function random(seed: number): () => number {
    let s = seed >>> 0 || 1;
    return () => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 2 ** 32;
    };
  }
  const WORDS = ['--listen', '--sim', '--serial', '--secure', '--pcsc', '--no-pcsc', '-r', '-h', '-rh', '-hr', '--help', '--hidden', '--', '-', '---', '--=', '--listen=', '--sim=', '--no-', '-=', '=', 'off', 'required', '', ' ', '\n', '--__proto__', '--constructor', '--toString', '-\u00e9', '卡', '--卡=1', '\u0000', '--no-no-pcsc'];
  const ALLOWED = new Set(Object.keys(CLI_ERRORS));

  it('5 000 random argv: a result or a typed one-line error, nothing else', () => {
    const next = random(20261202);
    const pick = (): string => {
      const r = next();
      if (r < 0.7) return WORDS[Math.floor(next() * WORDS.length)];
      if (r < 0.85) return WORDS[Math.floor(next() * WORDS.length)] + WORDS[Math.floor(next() * WORDS.length)];
      return String.fromCharCode(...Array.from({ length: Math.floor(next() * 6) }, () => Math.floor(next() * 0x3000)));
    };
    let ok = 0;
    for (let i = 0; i < 5_000; i++) {
      const argv = Array.from({ length: Math.floor(next() * 6) }, pick);
      const positionals = next() < 0.5;
      try {
        const { values, positionals: words } = parseCliOptions(TABLE, argv, { positionals });
        ok++;
        expect(Object.keys(values).every((k) => Object.hasOwn(TABLE, k)), JSON.stringify(argv)).toBe(true);
        expect(Array.isArray(values.serial)).toBe(true);
        if (values.secure !== undefined) expect(TABLE.secure.choices).toContain(values.secure);
        if (!positionals) expect(words).toEqual([]);
      } catch (e) {
        expect(e, JSON.stringify(argv)).toBeInstanceOf(CliUsageError);
        const u = e as CliUsageError;
        expect(ALLOWED.has(u.code), u.code).toBe(true);
        expect(u.message, JSON.stringify(argv)).not.toMatch(/[\n\r]/);
        expect(u.message.length).toBeLessThan(200);
      }
    }
    // The generator reaches both outcomes in good measure (a fuzz that only ever fails tests little).
    expect(ok).toBeGreaterThan(500);
    expect(ok).toBeLessThan(4_500);
  });
});

describe('every CLI on the shared parser: a bad flag is one line on stderr and exit 2', () => {
  async function captured(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
    try {
      return { code: await run(), out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  it('yika commands, yika conformance and yika-sim', async () => {
    // Nothing here reaches a daemon or a device: the parse fails first (the URL would refuse anyway).
    vi.stubEnv('YIKA_URL', 'http://127.0.0.1:9');
    const cases: Array<[string, () => Promise<number>, RegExp]> = [];
    for (const name of ['readers', 'read', 'items', 'write', 'apdu', 'trace', 'events', 'doctor']) {
      const mod = (await import(`../../daemon/cli/commands/${name}.ts`)) as { run(a: string[]): Promise<number> };
      cases.push([name, () => mod.run(['--frob']), name === 'doctor' ? /^yika doctor: unknown option --frob\n$/ : /^yika: CLI_UNKNOWN_OPTION: unknown option --frob\n$/]);
    }
    const readers = (await import('../../daemon/cli/commands/readers.ts')).run;
    cases.push(['readers --count', () => readers(['--watch', '--count']), /^yika: CLI_MISSING_VALUE: --count needs a value\n$/]);
    cases.push(['readers --count x', () => readers(['--count=x']), /^yika: CLI_BAD_VALUE: --count: expected a whole number, got "x"\n$/]);
    const apdu = (await import('../../daemon/cli/commands/apdu.ts')).run;
    cases.push(['apdu --slot', () => apdu(['--slot', '0x100', '00A4040000']), /^yika: CLI_BAD_VALUE: --slot: expected .*, got "0x100"\n$/]);
    const qr = (await import('../../daemon/cli/commands/qr.ts')).run;
    cases.push(['qr issue', () => qr(['issue', '--kee', 'k.json']), /^yika: CLI_UNKNOWN_OPTION: unknown option --kee\n$/]);
    const conformance = (await import('../../daemon/cli/commands/conformance.ts')).run;
    cases.push(['conformance', () => conformance(['--tcp']), /^yika conformance: --tcp needs a value \(yika conformance --help lists the options\)\n$/]);
    const sim = (await import('../../firmware-sim/cli.ts')).runCli;
    cases.push(['yika-sim', () => sim(['--pty', 'a', '--speed']), /^yika-sim: SIM_BAD_OPTION: --speed needs a value\n$/]);
    try {
      for (const [what, run, line] of cases) {
        const r = await captured(run);
        expect([r.code, r.err, r.out], what).toEqual([2, expect.stringMatching(line), '']);
      }
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
