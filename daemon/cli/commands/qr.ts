// yika qr: EHC1 codes from the command line — keygen, issue (text, PNG, SVG, terminal), bundle (build
// and sign a trust bundle), verify (through the daemon, or offline against a bundle file), trust
// (show the daemon's bundle) and install (send a bundle to the daemon).
import { readFileSync, writeFileSync } from 'node:fs';
import QRCode from 'qrcode';
import { Sm2PrivateKey, Sm2PublicKey } from '../../../crypto/index.ts';
import { issueCode } from '../../../qr/issuer.ts';
import { QrError } from '../../../qr/result-codes.ts';
import { revocationHash } from '../../../qr/revocation-list.ts';
import { buildTrustBundle, keyIdOf, type KeyStatus, type TrustKeySpec } from '../../../qr/trust-bundle.ts';
import { TrustStore } from '../../../qr/trust-store.ts';
import { Verifier, type QrVerifyResult } from '../../../qr/verifier.ts';
import type { CodeType } from '../../../qr/ehc1-body.ts';
import { CliUsageError, parseCliOptions, type CliOptionTable } from '../../../common/cli-options.ts';
import { parseHex } from '../../../common/hex.ts';
import { COMMON_HELP, UsageError, client, guard, parseCommand, print, printJson } from '../cli-args.ts';

const HELP = `Usage: yika qr <subcommand> [options]

  keygen [--out FILE]                         new SM2 key (JSON: private, public, kid); file mode 0600
  issue --key FILE --card HEX [--static] [--ttl S] [--iat UNIX] [--ext JSON]
        [--png FILE] [--svg FILE] [--terminal]
                                              a signed EHC1 code (dynamic by default) for a card id
                                              (64 hex = 32-byte card id, 32 hex = pseudonym)
  bundle --anchor-key FILE --seq N (--key FILE|PUBHEX)... [--revoked-key FILE|PUBHEX]...
        [--issuer NAME] [--types dynamic,static] [--valid-hours 24] [--sign-from ISO] [--sign-until ISO]
        [--verify-until ISO] [--revoke CARDHEX]... [--revoke-before CARDHEX@ISO]... --out FILE
                                              a trust bundle signed by the anchor key
  verify TEXT [--terminal ID]                 verify through the daemon (exit 0 valid, 1 not)
  verify TEXT --offline --bundle FILE --anchor FILE|PUBHEX [--now ISO]
                                              verify here, without the daemon
  trust                                       the daemon's installed trust bundle
  install FILE                                send a signed bundle to the daemon

${COMMON_HELP}`;

interface KeyFile {
  type: 'yika-qr-key';
  private?: string;
  public: string;
  kid: string;
}

// Each subcommand's flags (the synopsis in HELP above names them); parsed by common/cli-options.ts.
const KEYGEN_OPTIONS = { out: { type: 'string' } } as const satisfies CliOptionTable;
const ISSUE_OPTIONS = {
  key: { type: 'string' },
  card: { type: 'string' },
  static: { type: 'boolean' },
  dynamic: { type: 'boolean' },
  ttl: { type: 'string' },
  iat: { type: 'string' },
  ext: { type: 'string' },
  png: { type: 'string' },
  svg: { type: 'string' },
  terminal: { type: 'boolean' },
} as const satisfies CliOptionTable;
const BUNDLE_OPTIONS = {
  'anchor-key': { type: 'string' },
  seq: { type: 'string' },
  key: { type: 'string', multiple: true },
  'revoked-key': { type: 'string', multiple: true },
  issuer: { type: 'string' },
  types: { type: 'string' },
  'valid-hours': { type: 'string' },
  'sign-from': { type: 'string' },
  'sign-until': { type: 'string' },
  'verify-until': { type: 'string' },
  revoke: { type: 'string', multiple: true },
  'revoke-before': { type: 'string', multiple: true },
  out: { type: 'string' },
} as const satisfies CliOptionTable;
const VERIFY_OPTIONS = {
  offline: { type: 'boolean' },
  bundle: { type: 'string' },
  anchor: { type: 'string', multiple: true },
  now: { type: 'string' },
  terminal: { type: 'string' },
} as const satisfies CliOptionTable;

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  return value;
}

function hexBytes(s: string, what: string, lengths: number[]): Uint8Array {
  const bad = () => new CliUsageError('CLI_BAD_VALUE', `${what}: expected ${lengths.map((l) => l * 2).join(' or ')} hex digits`, what);
  const bytes = parseHex(s.trim(), bad);
  if (!lengths.includes(bytes.length)) throw bad();
  return bytes;
}

function readKeyFile(path: string): KeyFile {
  let k: KeyFile;
  try {
    k = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  } catch (e) {
    throw new QrError('QR_KEY_INVALID', `${path}: not a key file written by \`yika qr keygen\` (${(e as Error).message})`);
  }
  if (k.type !== 'yika-qr-key' || typeof k.public !== 'string') throw new QrError('QR_KEY_INVALID', `${path}: not a key file written by \`yika qr keygen\``);
  return k;
}

function privateKey(path: string): Sm2PrivateKey {
  const k = readKeyFile(path);
  if (!k.private) throw new QrError('QR_KEY_INVALID', `${path}: has no private key`);
  return Sm2PrivateKey.fromHex(k.private);
}

/** A key file or a public key in hex. */
function publicKey(arg: string): Sm2PublicKey {
  if (/^04[0-9a-fA-F]{128}$/.test(arg.trim())) return Sm2PublicKey.fromHex(arg.trim());
  return Sm2PublicKey.fromHex(readKeyFile(arg).public);
}

const unix = (iso: string, what: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new UsageError(`${what}: expected an ISO date/time, e.g. 2027-01-01T00:00:00Z`);
  return Math.floor(t / 1000);
};

function parseExt(json: string): Record<string, never> {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new UsageError('--ext: expected a JSON object, e.g. {"dept":"ER"}');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError('--ext: expected a JSON object, e.g. {"dept":"ER"}');
  return v as Record<string, never>;
}

function keygen(args: string[]): number {
  const f = parseCliOptions(KEYGEN_OPTIONS, args).values;
  const key = Sm2PrivateKey.generate();
  const pub = key.publicKey.toBytes();
  const file: KeyFile = { type: 'yika-qr-key', private: key.toHex(), public: key.publicKey.toHex(), kid: Buffer.from(keyIdOf(pub)).toString('hex') };
  const out = f.out;
  if (out) {
    writeFileSync(out, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
    print(`Wrote ${out} (keep it secret)\npublic ${file.public}\nkid    ${file.kid}`);
  } else printJson(file);
  return 0;
}

async function issue(args: string[]): Promise<number> {
  const f = parseCliOptions(ISSUE_OPTIONS, args).values;
  const key = privateKey(required(f.key, '--key'));
  const type: CodeType = f.static ? 'static' : 'dynamic';
  const cardId = hexBytes(required(f.card, '--card'), '--card', [32, 16]);
  const { ttl, iat } = f;
  for (const [name, v] of [['--ttl', ttl], ['--iat', iat]] as const) {
    if (v !== undefined && !/^\d+$/.test(v)) throw new UsageError(`${name}: expected whole seconds`);
  }
  const ext = f.ext;
  const code = issueCode({
    key,
    type,
    cardId,
    ttl: ttl ? Number(ttl) : undefined,
    iat: iat ? Number(iat) : undefined,
    ext: ext ? parseExt(ext) : undefined,
  });
  const { png, svg } = f;
  // The uppercase prefix keeps "EHC1:" in alphanumeric mode and the digits in numeric mode.
  const qrOptions = { errorCorrectionLevel: 'M' as const, margin: 4 };
  if (png) await QRCode.toFile(png, code.text, { ...qrOptions, type: 'png', scale: 6 });
  if (svg) await QRCode.toFile(svg, code.text, { ...qrOptions, type: 'svg' });
  if (f.terminal) print(await QRCode.toString(code.text, { ...qrOptions, type: 'terminal', small: true }));
  print(code.text);
  return 0;
}

function bundle(args: string[]): number {
  const f = parseCliOptions(BUNDLE_OPTIONS, args).values;
  const anchor = privateKey(required(f['anchor-key'], '--anchor-key'));
  const seq = Number(required(f.seq, '--seq'));
  if (!Number.isSafeInteger(seq) || seq < 0) throw new UsageError('--seq: a non-negative integer, higher than the installed bundle');
  const out = required(f.out, '--out');
  const now = Math.floor(Date.now() / 1000);
  const validHours = Number(f['valid-hours'] ?? 24);
  const types = (f.types ?? 'dynamic,static').split(',').map((t) => t.trim()) as CodeType[];
  if (!types.every((t) => t === 'dynamic' || t === 'static')) throw new UsageError('--types: dynamic, static or both');
  const window = {
    issuer: f.issuer ?? 'EHC issuer',
    types,
    signFrom: f['sign-from'] ? unix(f['sign-from'], '--sign-from') : now - 86400,
    signUntil: f['sign-until'] ? unix(f['sign-until'], '--sign-until') : now + 2 * 365 * 86400,
    verifyUntil: f['verify-until'] ? unix(f['verify-until'], '--verify-until') : now + 3 * 365 * 86400,
  };
  const keySpec = (arg: string, status: KeyStatus): TrustKeySpec => ({ pub: publicKey(arg).toBytes(), status, ...window });
  const keys = [...f.key.map((k) => keySpec(k, 'active')), ...f['revoked-key'].map((k) => keySpec(k, 'revoked'))];
  if (!keys.length) throw new UsageError('at least one --key');
  const revokedCards = f.revoke.map((c) => revocationHash(hexBytes(c, '--revoke', [32, 16])));
  const revokedBefore = f['revoke-before'].map((e) => {
    const [card, when] = e.split('@');
    if (!when) throw new UsageError('--revoke-before CARDHEX@ISO');
    return { hash: revocationHash(hexBytes(card, '--revoke-before', [32, 16])), before: unix(when, '--revoke-before') };
  });
  const bytes = buildTrustBundle({ seq, issuedAt: now, nextUpdate: now + Math.round(validHours * 3600), keys, revokedCards, revokedBefore }, anchor);
  writeFileSync(out, bytes);
  print(`Wrote ${out}: seq ${seq}, ${keys.length} key(s), ${revokedCards.length + revokedBefore.length} revoked card(s), ${bytes.length} bytes; anchor ${anchor.publicKey.toHex()}`);
  return 0;
}

function describe(r: QrVerifyResult & { scanId?: string }): string {
  const lines = [`${r.ok ? 'VALID' : 'REFUSED'}  ${r.code}: ${r.message}`];
  if (r.type) lines.push(`type ${r.type}, kid ${r.kid}${r.key ? ` (${r.key.issuer})` : ''}`);
  if (r.expiresAt) lines.push(`issued ${r.issuedAt}, expires ${r.expiresAt}`);
  if (r.claims) lines.push(`${r.claims.cardIdKind} id ${r.claims.cardId}`);
  lines.push(`trust bundle seq ${r.bundleSeq ?? '-'}, age ${r.bundleAge ?? '-'} s${r.warnings.length ? `; warnings: ${r.warnings.join(', ')}` : ''}`);
  return lines.join('\n');
}

async function verify(args: string[]): Promise<number> {
  const { c, values: f, positionals } = parseCommand(VERIFY_OPTIONS, args, { positionals: true });
  const text = positionals.join(' ');
  if (!text) throw new UsageError('yika qr verify TEXT');
  let result: QrVerifyResult;
  if (f.offline) {
    const bundleFile = required(f.bundle, '--bundle');
    const nowS = f.now ? unix(f.now, '--now') : Math.floor(Date.now() / 1000);
    const trust = new TrustStore({ anchors: f.anchor.map(publicKey), file: bundleFile, now: () => nowS });
    if (!f.anchor.length) throw new UsageError('--anchor FILE|PUBHEX is required with --offline');
    await trust.ready;
    if (!trust.current) throw new QrError('QR_TRUST_BUNDLE_INVALID', `${bundleFile}: missing, or not signed by the given anchor`);
    result = await new Verifier({ trust, nowMs: () => nowS * 1000 }).verify(text, { terminal: f.terminal });
  } else {
    result = (await client(c).verifyQr(text)) as QrVerifyResult;
  }
  if (c.json) printJson(result);
  else print(describe(result));
  return result.ok ? 0 : 1;
}

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || rest.includes('--help')) return print(HELP), sub ? 0 : 2;
  // Local failures (a key file, a bundle, a card id) carry a stable code like the daemon's: guard
  // reports every failure as one line with its exit code.
  return guard(() => subcommand(sub, rest), rest.includes('--json'));
}

async function subcommand(sub: string, rest: string[]): Promise<number> {
  {
    switch (sub) {
      case 'keygen':
        return keygen(rest);
      case 'issue':
        return issue(rest);
      case 'bundle':
        return bundle(rest);
      case 'verify':
        return verify(rest);
      case 'trust': {
        const { c } = parseCommand({}, rest);
        printJson(await client(c).qrTrust());
        return 0;
      }
      case 'install': {
        const { c, positionals } = parseCommand({}, rest, { positionals: true });
        const file = positionals[0];
        if (!file) throw new UsageError('yika qr install FILE');
        const bundle = readFileSync(file).toString('base64'); // unreadable: exit 2, before the daemon is asked
        printJson(await client(c).request('POST', '/v1/qr/trust', { bundle }));
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand "${sub}"\n\n${HELP}`);
    }
  }
}
