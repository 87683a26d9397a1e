// yika: the command-line client of a running Yika daemon. Each command is a module in commands/
// exporting `run(args): Promise<number>`; add a command with one line in COMMANDS.
type CommandModule = { run(args: string[]): Promise<number> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  readers: { summary: 'list the readers and their slots (--watch: follow changes)', load: () => import('./commands/readers.ts') },
  read: { summary: 'read the health card in a reader (decoded)', load: () => import('./commands/read.ts') },
  items: { summary: 'read data items by number (1–384), optionally joined by |', load: () => import('./commands/items.ts') },
  write: { summary: 'write data items (ITEM=VALUE …)', load: () => import('./commands/write.ts') },
  apdu: { summary: 'send raw APDUs to a slot', load: () => import('./commands/apdu.ts') },
  events: { summary: 'tail the event stream (cards, readers, QR scans); --json for scripts', load: () => import('./commands/events.ts') },
  trace: { summary: 'show or switch the APDU trace of a reader', load: () => import('./commands/trace.ts') },
  qr: { summary: 'EHC1 QR codes: keygen, issue, bundle, verify (daemon or --offline), trust, install', load: () => import('./commands/qr.ts') },
  doctor: { summary: 'check pcscd, serial ports, permissions, udev and the daemon; say how to fix', load: () => import('./commands/doctor.ts') },
  conformance: { summary: 'run the reader-protocol conformance suite against a device (--port PATH | --tcp HOST:PORT)', load: () => import('./commands/conformance.ts') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'Usage: yika <command> [options]   (yika <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'The daemon: --url URL or YIKA_URL (default http://127.0.0.1:7611).',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`yika: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (e: unknown) => {
    // Whatever a command let through: one line and the documented exit code, never a stack trace.
    const { reportError } = await import('./cli-args.ts');
    process.exitCode = reportError(e, process.argv.includes('--json'));
  },
);
