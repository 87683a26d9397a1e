// yika conformance: runs the reader-protocol conformance suite against a device on a serial port (or
// PTY) or a TCP endpoint, and prints a pass/fail table (or --json). Exit 0 = conformant, 1 = a MUST
// check failed, 2 = usage or connection error. Talks to the device directly, not to a daemon: stop
// the daemon first if it holds the port.
import { existsSync, readFileSync } from 'node:fs';
import { Sm2PublicKey } from '../../../crypto/index.ts';
import { connectTcpLink, openSerialLink, type ByteLink } from '../../../protocol/link.ts';
import type { TrustedCa } from '../../../protocol/secure/device-certificate.ts';
import { formatReportTable, runConformance } from '../../conformance/index.ts';
import { CliUsageError, optionHelp, parseCliOptions, type CliOptionTable } from '../../../common/cli-options.ts';

const OPTIONS = {
  port: { type: 'string', arg: 'PATH', help: 'serial port or PTY of the device (e.g. /dev/ttyUSB0)' },
  baud: { type: 'string', arg: 'N', help: 'baud rate (default 115200; a PTY ignores it)' },
  tcp: { type: 'string', arg: 'HOST:PORT', help: 'the device listens on TCP instead' },
  ca: { type: 'string', multiple: true, arg: 'ID=KEY', help: 'trust vendor CA ID with SM2 public key KEY (04… hex, or a PEM file); repeatable;\nenables the secure-channel checks' },
  'test-ca': { type: 'boolean', help: 'trust the TEST-ONLY CA of the simulator (never for production devices)' },
  only: { type: 'string', arg: 'PREFIXES', help: 'run only checks whose id starts with one of these (comma-separated)' },
  'time-scale': { type: 'string', arg: 'N', help: 'multiply every wait by N for slow lines (default 1)' },
  'allow-unexercised': {
    type: 'boolean',
    help: 'call the run CONFORMANT even when MUST checks could not be exercised (no card,\nno T=0 card, no CA key …); without it such a run is NOT CONFORMANT',
  },
  json: { type: 'boolean', help: 'print the report as JSON (`unexercised` lists the checks not exercised)' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
} as const satisfies CliOptionTable;

export const HELP = `Usage: yika conformance (--port PATH [--baud N] | --tcp HOST:PORT) [options]

Runs the Yika reader protocol v1 conformance suite against a device and prints a report.

${optionHelp(OPTIONS)}

Exit status: 0 every MUST check passed (or does not apply), 1 some MUST check failed or was not
exercised (without --allow-unexercised), 2 usage or connection error.`;

interface Args {
  port?: string;
  baud?: number;
  tcp?: { host: string; port: number };
  cas: TrustedCa[];
  only?: string[];
  timeScale: number;
  json: boolean;
  allowUnexercised: boolean;
  help: boolean;
}

class UsageError extends Error {}

function parseKey(spec: string): Sm2PublicKey {
  if (existsSync(spec)) return Sm2PublicKey.fromPem(readFileSync(spec, 'utf8'));
  return Sm2PublicKey.fromHex(spec.replace(/\s+/g, ''));
}

function trustedCa(spec: string): TrustedCa {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new UsageError('--ca needs ID=KEY');
  try {
    return { id: spec.slice(0, eq), publicKey: parseKey(spec.slice(eq + 1)) };
  } catch (e) {
    throw new UsageError(`--ca ${spec.slice(0, eq)}: not an SM2 public key (${(e as Error).message})`);
  }
}

async function parseConformanceArgs(argv: string[]): Promise<Args> {
  const { values: v } = parseCliOptions(OPTIONS, argv);
  const out: Args = { cas: v.ca.map(trustedCa), timeScale: 1, json: v.json === true, allowUnexercised: v['allow-unexercised'] === true, help: v.help === true };
  if (v.port !== undefined) out.port = v.port;
  if (v.baud !== undefined) out.baud = Number(v.baud);
  if (v.tcp !== undefined) {
    const m = /^(.+):(\d+)$/.exec(v.tcp);
    if (!m) throw new UsageError(`--tcp needs HOST:PORT, got "${v.tcp}"`);
    out.tcp = { host: m[1], port: Number(m[2]) };
  }
  if (v['test-ca']) {
    const { testTrustedCa } = await import('../../../protocol/secure/test-ca.ts');
    out.cas.push(testTrustedCa());
  }
  if (v.only !== undefined) out.only = v.only.split(',').filter(Boolean);
  if (v['time-scale'] !== undefined) out.timeScale = Number(v['time-scale']);
  if (!out.help && !out.port === !out.tcp) throw new UsageError('give exactly one of --port PATH or --tcp HOST:PORT');
  if (!(out.timeScale > 0)) throw new UsageError('--time-scale must be a positive number');
  if (out.baud !== undefined && !(Number.isInteger(out.baud) && out.baud > 0)) throw new UsageError('--baud must be a positive integer');
  return out;
}

export async function run(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = await parseConformanceArgs(argv);
  } catch (e) {
    if (e instanceof UsageError || e instanceof CliUsageError) {
      process.stderr.write(`yika conformance: ${e.message} (yika conformance --help lists the options)\n`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  let link: ByteLink;
  try {
    link = args.port ? await openSerialLink(args.port, { baudRate: args.baud }) : await connectTcpLink(args.tcp!.host, args.tcp!.port);
  } catch (e) {
    process.stderr.write(`yika conformance: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const report = await runConformance(link, {
      trustedCas: args.cas,
      only: args.only,
      timeScale: args.timeScale,
      allowUnexercised: args.allowUnexercised,
      onResult: args.json ? undefined : (r) => process.stderr.write(`${r.status === 'pass' ? '.' : r.status === 'skip' ? 's' : r.status === 'unexercised' ? 'u' : 'F'}`),
    });
    if (!args.json) process.stderr.write('\n');
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReportTable(report)}\n`);
    return report.ok ? 0 : 1;
  } finally {
    link.close('conformance run finished');
  }
}
