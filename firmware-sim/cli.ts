// yika-sim: the simulated desk reader as a process. Serves the reader protocol on a PTY or TCP, and/or
// presents the card to pcscd through vpcd; takes commands from a control channel, a scenario file and
// stdin. Exit codes: 0 after SIGINT/SIGTERM (or a finished --exit-after-scenario), 1 when a transport
// or scenario fails, 2 for bad flags.
import { CliUsageError, optionHelp, parseCliOptions, type CliOptionTable, type CliValues } from '../common/cli-options.ts';
import { createSimulator, COMMAND_HELP, type Simulator } from './index.ts';
import { attachLineInput } from './control/line-input.ts';
import { loadScenario, runScenario } from './control/scenario.ts';
import { startControlServer, type ControlServer } from './control/control-server.ts';
import { SimError } from './control/sim-errors.ts';
import { VPCD_DEFAULT_PORT } from './transports/vpcd-codec.ts';

const TRANSPORT_OPTIONS = {
  pty: { type: 'string', arg: 'PATH', help: 'serve the reader protocol on PATH, one end of a socat PTY pair' },
  'host-pty': { type: 'string', arg: 'PATH', help: "with --pty: start socat ourselves, the host's end at PATH (real unplug/replug)" },
  tcp: { type: 'string', arg: 'HOST:PORT', help: 'listen for one host at a time (PORT 0 = any free port)' },
  vpcd: { type: 'string', arg: '[HOST:]PORT', help: `present the card in slot 1 to pcscd via vsmartcard's vpcd (default port ${VPCD_DEFAULT_PORT})` },
  'vpcd-sam': { type: 'string', arg: '[HOST:]PORT', help: `present the SAM in slot 0x11 on a second vpcd reader (usually ${VPCD_DEFAULT_PORT + 1})` },
} as const satisfies CliOptionTable;

const SIM_OPTIONS = {
  seed: { type: 'string', arg: 'N', help: 'synthetic cardholder and fault seed (default 1)' },
  profile: { type: 'string', arg: 'FILE', help: 'health-card profile (JSON/YAML) instead of a generated one' },
  speed: { type: 'string', arg: 'F', help: '0 = no delays (default), 1 = real-time card and link timing' },
  'sam-pin': { type: 'string', arg: 'DIGITS', help: 'PIN the SAM is configured with (default 123456)' },
  secure: { type: 'string', arg: 'MODE', choices: ['supported', 'required'], help: 'SM secure channel with a TEST-ONLY identity: supported | required' },
  control: { type: 'string', arg: 'PORT', help: 'HTTP control channel on 127.0.0.1:PORT (0 = any free port)' },
  scenario: { type: 'string', arg: 'FILE', help: 'run a scenario (JSON/YAML steps) once the transports are up' },
  'exit-after-scenario': { type: 'boolean', help: 'stop when the scenario has finished' },
  stdin: { type: 'boolean', negatable: true, helpNo: 'do not read commands from stdin' },
  help: { type: 'boolean', short: 'h', help: 'this text' },
} as const satisfies CliOptionTable;

export const USAGE = `yika-sim — a simulated health-card desk reader (contact + contactless slots, 4 SAM slots, QR scanner)

usage: yika-sim [transport…] [options]

transports (at least one):
${optionHelp(TRANSPORT_OPTIONS)}

options:
${optionHelp(SIM_OPTIONS)}

stdin takes one command per line; "help" lists them. See SIMULATOR.md.`;

export interface CliOptions {
  pty?: string;
  hostPty?: string;
  tcp?: { host: string; port: number };
  vpcd?: { host: string; port: number };
  vpcdSam?: { host: string; port: number };
  seed?: number;
  profile?: string;
  speed?: number;
  samPin?: string;
  secure?: 'supported' | 'required';
  control?: number;
  scenario?: string;
  exitAfterScenario: boolean;
  stdin: boolean;
  help: boolean;
}

function bad(message: string): never {
  throw new SimError('SIM_BAD_OPTION', message);
}

function parsePort(text: string, flag: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) bad(`${flag}: the port must be 0–65535`);
  return Number(text);
}

function hostPort(value: string, flag: string, defaultHost?: string): { host: string; port: number } {
  if (defaultHost && /^\d+$/.test(value)) return { host: defaultHost, port: parsePort(value, flag) };
  const colon = value.lastIndexOf(':');
  if (colon <= 0) bad(`${flag}: expected ${defaultHost ? '[HOST:]PORT' : 'HOST:PORT'}`);
  const host = value.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  if (host === '') bad(`${flag}: expected HOST:PORT`);
  return { host, port: parsePort(value.slice(colon + 1), flag) };
}

/** Parses argv (without node and the script); throws SimError SIM_BAD_OPTION. */
export function parseCliArgs(argv: string[]): CliOptions {
  let v: CliValues<typeof TRANSPORT_OPTIONS & typeof SIM_OPTIONS>;
  try {
    v = parseCliOptions({ ...TRANSPORT_OPTIONS, ...SIM_OPTIONS }, argv).values;
  } catch (e) {
    // The simulator's documented code for every bad flag (SIMULATOR.md); the message names the flag.
    return bad(e instanceof CliUsageError ? e.message : String(e));
  }
  const out: CliOptions = { exitAfterScenario: !!v['exit-after-scenario'], stdin: v.stdin !== false, help: !!v.help };
  if (out.help) return out;
  if (v.pty !== undefined) {
    if (v.pty === '') bad('--pty needs a path');
    out.pty = v.pty;
  }
  if (v['host-pty'] !== undefined) {
    if (!out.pty) bad('--host-pty needs --pty');
    if (v['host-pty'] === '' || v['host-pty'] === out.pty) bad('--host-pty must be a different path from --pty');
    out.hostPty = v['host-pty'];
  }
  if (v.tcp !== undefined) out.tcp = hostPort(v.tcp, '--tcp');
  if (v.vpcd !== undefined) out.vpcd = hostPort(v.vpcd, '--vpcd', '127.0.0.1');
  if (v['vpcd-sam'] !== undefined) out.vpcdSam = hostPort(v['vpcd-sam'], '--vpcd-sam', '127.0.0.1');
  if (out.vpcd && out.vpcdSam && out.vpcd.host === out.vpcdSam.host && out.vpcd.port === out.vpcdSam.port) bad('--vpcd and --vpcd-sam need different ports');
  if (!out.pty && !out.tcp && !out.vpcd && !out.vpcdSam) bad('choose a transport: --pty PATH, --tcp HOST:PORT or --vpcd [HOST:]PORT (see --help)');
  if (v.seed !== undefined) {
    if (!/^\d{1,10}$/.test(v.seed) || Number(v.seed) > 2 ** 32 - 1) bad('--seed must be an integer from 0 to 4294967295');
    out.seed = Number(v.seed);
  }
  if (v.profile !== undefined) out.profile = v.profile;
  if (v.speed !== undefined) {
    const s = Number(v.speed);
    if (v.speed.trim() === '' || !Number.isFinite(s) || s < 0 || s > 1000) bad('--speed must be a number from 0 to 1000');
    out.speed = s;
  }
  if (v['sam-pin'] !== undefined) {
    if (!/^\d{4,12}$/.test(v['sam-pin'])) bad('--sam-pin must be 4–12 digits');
    out.samPin = v['sam-pin'];
  }
  if (v.secure !== undefined) out.secure = v.secure as CliOptions['secure'];
  if (v.control !== undefined) out.control = parsePort(v.control, '--control');
  if (v.scenario !== undefined) out.scenario = v.scenario;
  if (out.exitAfterScenario && !out.scenario) bad('--exit-after-scenario needs --scenario');
  return out;
}

/** Runs the simulator until a signal; resolves with the exit code. */
export async function runCli(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; stdin: NodeJS.ReadableStream } = process): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCliArgs(argv);
  } catch (e) {
    io.stderr.write(`yika-sim: ${(e as SimError).code ?? 'SIM_BAD_OPTION'}: ${(e as Error).message}\n`);
    return 2;
  }
  if (options.help) {
    io.stdout.write(`${USAGE}\n\n${COMMAND_HELP}\n`);
    return 0;
  }

  let sim: Simulator | undefined;
  let control: ControlServer | undefined;
  let detachStdin: (() => void) | undefined;
  const shutdown = async (): Promise<void> => {
    detachStdin?.();
    await control?.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
  };

  try {
    sim = createSimulator({ seed: options.seed, profile: options.profile, speed: options.speed, samPin: options.samPin, secure: options.secure });
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'SIM_BAD_OPTION';
    io.stderr.write(`yika-sim: ${code}: ${(e as Error).message}\n`);
    return 2;
  }

  const ready: string[] = [];
  try {
    control = await serveTransports(sim, options, io.stderr, ready);
  } catch (e) {
    io.stderr.write(`yika-sim: ${(e as { code?: string }).code ?? 'SIM_TRANSPORT_FAILED'}: ${(e as Error).message}\n`);
    await shutdown();
    return 1;
  }

  io.stdout.write(`yika-sim ready ${ready.join(' ')} serial=${sim.reader.serial} seed=${sim.seed} speed=${sim.reader.clock.speed}\n`);

  let finished: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finished = resolve));
  const onSignal = (): void => finished(0);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  if (options.stdin) detachStdin = attachLineInput(io.stdin, io.stdout, sim.controller);

  if (options.scenario) {
    void playScenario(sim, options.scenario, io, (code) => {
      // A failed scenario stops the simulator; a finished one only with --exit-after-scenario.
      if (code !== 0 || options.exitAfterScenario) finished(code);
    });
  }

  const code = await done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await shutdown();
  return code;
}

/** Starts every transport the options name (and the control channel); `ready` gets their addresses. */
async function serveTransports(sim: Simulator, options: CliOptions, stderr: NodeJS.WritableStream, ready: string[]): Promise<ControlServer | undefined> {
  if (options.pty) {
    await sim.servePty({ path: options.pty, hostPath: options.hostPty });
    ready.push(`pty=${options.pty}`);
    if (options.hostPty) ready.push(`host-pty=${options.hostPty}`);
  }
  if (options.tcp) {
    const t = await sim.serveTcp(options.tcp.host, options.tcp.port);
    ready.push(`tcp=${options.tcp.host}:${t.port}`);
  }
  for (const [target, slot, name] of [[options.vpcd, 0x01, 'vpcd'], [options.vpcdSam, 0x11, 'vpcd-sam']] as const) {
    if (!target) continue;
    // Report state changes only: while vpcd is down the client retries every 500 ms.
    let lastState = '';
    sim.serveVpcd({
      host: target.host,
      port: target.port,
      slot,
      onState: (state, detail) => {
        if (state === lastState) return;
        lastState = state;
        stderr.write(`yika-sim: ${name} ${state}${detail ? ` ${detail}` : ''}${state === 'connecting' ? ' (retrying until pcscd with vpcd listens)' : ''}\n`);
      },
    });
    ready.push(`${name}=${target.host}:${target.port}`);
  }
  if (options.control === undefined) return undefined;
  const control = await startControlServer(sim.controller, { port: options.control });
  ready.push(`control=${control.url}`);
  return control;
}

/** Runs the scenario file, one log line per step; `done(0)` when it finished, `done(1)` when it failed. */
async function playScenario(sim: Simulator, file: string, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }, done: (code: number) => void): Promise<void> {
  try {
    const scenario = await loadScenario(file);
    // One log line per step (what it did, how long; never a QR payload): QA reads where it failed.
    const outcome = await runScenario(sim.controller, scenario, {
      onLog: (e) =>
        io.stdout.write(
          `yika-sim step ${e.step} ${e.cmd} ${e.ok ? 'ok' : 'FAILED'} ${e.ms}ms${e.ok ? (e.result !== undefined ? ' ' + JSON.stringify(e.result) : '') : ` ${e.error!.code}: ${e.error!.message}`}\n`,
        ),
    });
    io.stdout.write(`yika-sim scenario done steps=${outcome.ran}\n`);
    done(0);
  } catch (e) {
    io.stderr.write(`yika-sim: ${(e as { code?: string }).code ?? 'SIM_SCENARIO_INVALID'}: ${(e as Error).message}\n`);
    done(1);
  }
}

const invokedDirectly = (() => {
  const entry = process.argv[1] ?? '';
  return /(?:^|[\\/])(?:cli\.(?:ts|js)|yika-sim(?:\.js)?)$/.test(entry);
})();

if (invokedDirectly) {
  const code = await runCli(process.argv.slice(2));
  // Native handles (serial port, sockets) are closed; exit explicitly so a stray timer cannot keep us up.
  process.exit(code);
}
