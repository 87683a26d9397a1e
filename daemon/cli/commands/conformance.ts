// yika conformance: runs the reader-protocol conformance suite against a device on a serial port (or
// PTY) or a TCP endpoint, and prints a pass/fail table (or --json). Exit 0 = conformant, 1 = a MUST
// check failed, 2 = usage or connection error. Talks to the device directly, not to a daemon: stop
// the daemon first if it holds the port.
import { existsSync, readFileSync } from 'node:fs';
import { Sm2PublicKey } from '../../../crypto/index.ts';
import { connectTcpLink, openSerialLink, type ByteLink } from '../../../protocol/link.ts';
import type { TrustedCa } from '../../../protocol/secure/device-certificate.ts';
import { formatReportTable, runConformance } from '../../conformance/index.ts';

export const HELP = `Usage: yika conformance (--port PATH [--baud N] | --tcp HOST:PORT) [options]

Runs the Yika reader protocol v1 conformance suite against a device and prints a report.

  --port PATH        serial port or PTY of the device (e.g. /dev/ttyUSB0)
  --baud N           baud rate (default 115200; a PTY ignores it)
  --tcp HOST:PORT    the device listens on TCP instead
  --ca ID=KEY        trust vendor CA ID with SM2 public key KEY (04… hex, or a PEM file); repeatable;
                     enables the secure-channel checks
  --test-ca          trust the TEST-ONLY CA of the simulator (never for production devices)
  --only PREFIXES    run only checks whose id starts with one of these (comma-separated)
  --time-scale N     multiply every wait by N for slow lines (default 1)
  --allow-unexercised
                     call the run CONFORMANT even when MUST checks could not be exercised (no card,
                     no T=0 card, no CA key …); without it such a run is NOT CONFORMANT
  --json             print the report as JSON (\`unexercised\` lists the checks not exercised)
  -h, --help         this help

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

export async function parseArgs(argv: string[]): Promise<Args> {
  const out: Args = { cas: [], timeScale: 1, json: false, allowUnexercised: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [name, inline] = a.startsWith('--') && a.includes('=') && !a.startsWith('--ca=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    if (name === '--port') out.port = value();
    else if (name === '--baud') out.baud = Number(value());
    else if (name === '--tcp') {
      const v = value();
      const m = /^(.+):(\d+)$/.exec(v);
      if (!m) throw new UsageError(`--tcp needs HOST:PORT, got "${v}"`);
      out.tcp = { host: m[1], port: Number(m[2]) };
    } else if (name === '--ca' || a.startsWith('--ca=')) {
      const v = a.startsWith('--ca=') ? a.slice(5) : value();
      const eq = v.indexOf('=');
      if (eq <= 0) throw new UsageError('--ca needs ID=KEY');
      try {
        out.cas.push({ id: v.slice(0, eq), publicKey: parseKey(v.slice(eq + 1)) });
      } catch (e) {
        throw new UsageError(`--ca ${v.slice(0, eq)}: not an SM2 public key (${(e as Error).message})`);
      }
    } else if (name === '--test-ca') {
      const { testTrustedCa } = await import('../../../protocol/secure/test-ca.ts');
      out.cas.push(testTrustedCa());
    } else if (name === '--only') out.only = value().split(',').filter(Boolean);
    else if (name === '--time-scale') out.timeScale = Number(value());
    else if (name === '--json') out.json = true;
    else if (name === '--allow-unexercised') out.allowUnexercised = true;
    else if (name === '-h' || name === '--help') out.help = true;
    else throw new UsageError(`unknown option ${a}`);
  }
  if (!out.help && !out.port === !out.tcp) throw new UsageError('give exactly one of --port PATH or --tcp HOST:PORT');
  if (!(out.timeScale > 0)) throw new UsageError('--time-scale must be a positive number');
  if (out.baud !== undefined && !(Number.isInteger(out.baud) && out.baud > 0)) throw new UsageError('--baud must be a positive integer');
  return out;
}

export async function run(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = await parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`yika conformance: ${e.message}\n\n${HELP}\n`);
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
