// Crypto benchmark section: SM2 sign/verify (native vs `openssl speed sm2` vs sm-crypto vs our pure-JS
// fallback), SM3 and SM4-CBC throughput vs `openssl speed -evp`, plus the secure-messaging primitives.
// Alone: `node --import tsx bench/crypto.ts` (prints the section as a table).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import smCrypto from 'sm-crypto';
import { median, type BenchRow, type BenchSection } from './bench-kit.ts';
import {
  setSm2Backend,
  sm2Backend,
  sm2KeyExchange,
  sm3,
  sm4CbcMac,
  sm4EncryptCbc,
  sm4EncryptEcb,
  Sm2PrivateKey,
  runSelfTest,
  toHex,
} from '../crypto/index.ts';

const MB = 1e6; // openssl speed reports 1000s of bytes per second: compare in decimal MB/s

function openssl(args: string[]): string | undefined {
  try {
    return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  } catch {
    return undefined;
  }
}

/** `openssl speed -seconds 3 sm2` → sign/s and verify/s. */
function opensslSm2(): { sign: number; verify: number } | undefined {
  const out = openssl(['speed', '-seconds', '3', 'sm2']);
  const m = out && /SM2 \(CurveSM2\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(out);
  return m ? { sign: Number(m[1]), verify: Number(m[2]) } : undefined;
}

/** `openssl speed -evp <alg> -bytes <n>` → MB/s. */
function opensslEvp(alg: string, bytes: number): number | undefined {
  const out = openssl(['speed', '-seconds', '3', '-bytes', String(bytes), '-evp', alg]);
  const m = out && new RegExp(`^${alg}\\s+([\\d.]+)k`, 'im').exec(out);
  return m ? (Number(m[1]) * 1000) / MB : undefined;
}

function throughput(fn: () => void, bytes: number, minMs = 400): number {
  return (cpuOpsPerSecond(fn, { runs: 5, minMs, batch: 16 }) * bytes) / MB;
}

// Rates are per second of CPU user time of this process, as `openssl speed` counts by default (without
// -elapsed): on a loaded machine wall-clock rates measure the neighbours, CPU-time rates measure the code.
function cpuUserSeconds(): number {
  return process.cpuUsage().user / 1e6;
}

/** One timed run: calls fn in batches for at least minMs of wall time; ops per CPU-second. */
function timedRun(fn: () => void, minMs: number, batch: number): number {
  let ops = 0;
  const wallStart = performance.now();
  const cpuStart = cpuUserSeconds();
  do {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
  } while (performance.now() - wallStart < minMs);
  return ops / Math.max(cpuUserSeconds() - cpuStart, 1e-6);
}

function cpuOpsPerSecond(fn: () => void, options: { runs?: number; minMs?: number; batch?: number } = {}): number {
  const batch = options.batch ?? 1;
  for (let i = 0; i < Math.max(batch, 5); i++) fn(); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < (options.runs ?? 5); r++) rates.push(timedRun(fn, options.minMs ?? 300, batch));
  return median(rates);
}

/** ops per CPU-second of each candidate: `rounds` interleaved runs of at least minMs each, median per candidate. */
function interleavedOpsPerSecond<K extends string>(candidates: Record<K, () => void>, options: { rounds: number; minMs: number }): Record<K, number> {
  const names = Object.keys(candidates) as K[];
  const rates = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (const n of names) for (let i = 0; i < 3; i++) candidates[n](); // warm-up
  for (let r = 0; r < options.rounds; r++) {
    for (const n of names) rates[n].push(timedRun(candidates[n], options.minMs, 1));
  }
  return Object.fromEntries(names.map((n) => [n, median(rates[n])])) as Record<K, number>;
}

function anchorOf(name: string, value: number | undefined): BenchRow['anchor'] {
  return value === undefined ? undefined : { name, value };
}

export async function run(): Promise<BenchSection> {
  const selfTest = runSelfTest();
  const notes: string[] = [];
  if (!selfTest.nativeSm2) notes.push(`native SM2 disabled by the self-test: ${selfTest.failures.join('; ')}`);

  const key = Sm2PrivateKey.generate();
  const pub = key.publicKey;
  const message = randomBytes(32);
  const sig = key.sign(message);
  pub.nativeKey(); // import once: steady state, as in the daemon

  // SM2: the candidates run in interleaved rounds so that a change of machine load hits all of them alike;
  // openssl speed runs afterwards (never in parallel: two cores).
  const msgArray = Array.from(message);
  const pubHex = pub.toHex();
  const privHex = key.toHex();
  const sigHex = toHex(sig);
  const withBackend = (name: 'native' | 'js', fn: () => void) => () => {
    setSm2Backend(name);
    fn();
  };
  const sm2 = interleavedOpsPerSecond(
    {
      nativeVerify: withBackend('native', () => void pub.verify(message, sig)),
      nativeSign: withBackend('native', () => void key.sign(message)),
      jsVerify: withBackend('js', () => void pub.verify(message, sig)),
      jsSign: withBackend('js', () => void key.sign(message)),
      smCryptoVerify: () => void smCrypto.sm2.doVerifySignature(msgArray, sigHex, pubHex, { hash: true }),
      smCryptoSign: () => void smCrypto.sm2.doSignature(msgArray, privHex, { hash: true, publicKey: pubHex }),
    },
    { rounds: 5, minMs: 400 },
  );
  setSm2Backend(selfTest.nativeSm2 ? 'native' : 'js');
  const { nativeVerify, nativeSign, jsVerify, jsSign, smCryptoVerify, smCryptoSign } = sm2;

  // Key exchange (pure JS arithmetic): one side's computation, the handshake cost per party.
  const peer = Sm2PrivateKey.generate();
  const peerEph = Sm2PrivateKey.generate();
  const ownEph = Sm2PrivateKey.generate();
  const kx = cpuOpsPerSecond(
    () =>
      void sm2KeyExchange({ role: 'initiator', self: { priv: key }, peer: { pub: peer.publicKey }, selfEphemeral: { priv: ownEph }, peerEphemeralPub: peerEph.publicKey, keyLength: 16 }),
    { runs: 3, minMs: 400 },
  );

  // SM3 / SM4 throughput.
  const b64 = randomBytes(64);
  const b16k = randomBytes(16384);
  const sm4Key = randomBytes(16);
  const iv = randomBytes(16);
  const sm3At64 = throughput(() => void sm3(b64), 64);
  const sm3At16k = throughput(() => void sm3(b16k), 16384);
  const sm4CbcAt16k = throughput(() => void sm4EncryptCbc(sm4Key, iv, b16k), 16384);
  const block = randomBytes(16);
  const sm4Block = cpuOpsPerSecond(() => void sm4EncryptEcb(sm4Key, block), { runs: 5, minMs: 300, batch: 64 });
  const apdu = randomBytes(40);
  const mac = cpuOpsPerSecond(() => void sm4CbcMac(sm4Key, apdu, { iv, length: 4 }), { runs: 5, minMs: 300, batch: 16 });
  const sm3SmCrypto = (cpuOpsPerSecond(() => void smCrypto.sm3(b64), { runs: 3, minMs: 300, batch: 16 }) * 64) / MB;

  // OpenSSL CLI anchors last.
  const osslSm2 = opensslSm2();
  const osslSm3At64 = opensslEvp('sm3', 64);
  const osslSm3At16k = opensslEvp('sm3', 16384);
  const osslSm4At16k = opensslEvp('sm4-cbc', 16384);
  if (!osslSm2) notes.push('openssl CLI not found or `openssl speed sm2` unparsable: SM2 rows have no OpenSSL anchor');

  const rows: BenchRow[] = [
    { name: 'SM2 verify, Yika native (createVerify sm3 + ZA, cached KeyObject)', value: nativeVerify, unit: 'ops/s', anchor: anchorOf('openssl speed sm2 verify', osslSm2?.verify) },
    { name: 'SM2 sign, Yika native', value: nativeSign, unit: 'ops/s', anchor: anchorOf('openssl speed sm2 sign', osslSm2?.sign) },
    { name: 'SM2 verify, sm-crypto 0.5.8 {hash:true}', value: smCryptoVerify, unit: 'ops/s', anchor: { name: 'Yika native verify', value: nativeVerify } },
    { name: 'SM2 sign, sm-crypto 0.5.8 {hash:true}', value: smCryptoSign, unit: 'ops/s', anchor: { name: 'Yika native sign', value: nativeSign } },
    { name: 'SM2 verify, Yika pure-JS fallback (BigInt, per-key table warm)', value: jsVerify, unit: 'ops/s', anchor: { name: 'Yika native verify', value: nativeVerify } },
    { name: 'SM2 sign, Yika pure-JS fallback (BigInt)', value: jsSign, unit: 'ops/s', anchor: { name: 'Yika native sign', value: nativeSign } },
    { name: 'SM2 key exchange, one party (pure JS)', value: kx, unit: 'ops/s', anchor: { name: 'Yika native verify', value: nativeVerify } },
    { name: 'SM3 64 B, crypto.hash', value: sm3At64, unit: 'MB/s', anchor: anchorOf('openssl speed -evp sm3 64 B', osslSm3At64) },
    { name: 'SM3 64 B, sm-crypto', value: sm3SmCrypto, unit: 'MB/s', anchor: { name: 'Yika SM3 64 B', value: sm3At64 } },
    { name: 'SM3 16 KiB, crypto.hash', value: sm3At16k, unit: 'MB/s', anchor: anchorOf('openssl speed -evp sm3 16 KiB', osslSm3At16k) },
    { name: 'SM4-CBC encrypt 16 KiB', value: sm4CbcAt16k, unit: 'MB/s', anchor: anchorOf('openssl speed -evp sm4-cbc 16 KiB', osslSm4At16k) },
    { name: 'SM4-ECB one block (cached context)', value: sm4Block, unit: 'ops/s', note: 'secure-messaging key/ block ops' },
    { name: 'SM4 CBC-MAC, 40 B APDU → 4 B MAC', value: mac, unit: 'ops/s', anchor: { name: 'SM4-ECB one block', value: sm4Block } },
  ];
  notes.push(
    `SM2 backend after the self-test: ${sm2Backend()}; sm-crypto SM2 verify is ${(nativeVerify / smCryptoVerify).toFixed(0)}× slower than native. SM2 candidates run in 5 interleaved rounds of ≥ 400 ms each.`,
    'Rates are per CPU-second of user time, like `openssl speed` without -elapsed (robust to other load on the machine). MB = 10^6 bytes (as openssl speed). openssl speed runs after our measurements, never in parallel.',
  );
  return { title: 'Crypto (SM2, SM3, SM4)', command: 'node --import tsx bench/crypto.ts', rows, notes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { formatSection } = await import('./report.ts');
  process.stdout.write(formatSection(await run()) + '\n');
}
