// EHC1 QR verification: cold verifications (one core, and all cores through the worker pool) against
// `openssl speed sm2` and sm-crypto measured in the same run; cached verifications against a bare
// Map lookup; HTTP verify requests (cached) against a bare fastify route, both over fastify inject.
// Run alone: node --import tsx bench/qr.ts
import { execFileSync } from 'node:child_process';
import { createVerify } from 'node:crypto';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import Fastify from 'fastify';
import { interleavedOpsPerCpuSecond, opsPerCpuSecond, opsPerSecond, opsPerSecondAsync, median, type BenchRow, type BenchSection } from './bench-kit.ts';
import { Sm2PrivateKey, sm2SignatureRawToDer } from '../crypto/index.ts';
import { QrService } from '../daemon/services/qr-service.ts';
import { qrRoutes } from '../daemon/api/routes/qr.ts';
import { buildTrustBundle } from '../qr/trust-bundle.ts';
import { TrustStore } from '../qr/trust-store.ts';
import { Verifier } from '../qr/verifier.ts';
import { VerifyPool } from '../qr/verify-pool.ts';
import { issueCode } from '../qr/issuer.ts';
import { splitBody } from '../qr/ehc1-body.ts';
import { digitsToBytes } from '../qr/ehc1-text.ts';

const COMMAND = 'node --import tsx bench/qr.ts';

/** `openssl speed -seconds S [-multi N] sm2` verify/s, or NaN when the CLI is missing. */
function opensslVerifyRate(seconds: number, multi = 1): number {
  try {
    const args = ['speed', '-seconds', String(seconds), ...(multi > 1 ? ['-multi', String(multi)] : []), 'sm2'];
    const out = execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.split('\n').find((l) => /SM2 \(CurveSM2\)/.test(l));
    const nums = line?.trim().split(/\s+/).map(Number).filter((n) => Number.isFinite(n));
    return nums?.length ? nums[nums.length - 1] : NaN;
  } catch {
    return NaN;
  }
}

export async function run(): Promise<BenchSection> {
  const now = Math.floor(Date.now() / 1000);
  const anchor = Sm2PrivateKey.generate();
  const issuer = Sm2PrivateKey.generate();
  const bundle = buildTrustBundle(
    { seq: 1, issuedAt: now - 60, nextUpdate: now + 86400, keys: [{ pub: issuer.publicKey.toBytes(), issuer: 'bench', signFrom: now - 86400, signUntil: now + 86400, verifyUntil: now + 86400 }] },
    anchor,
  );
  const trust = new TrustStore({ anchors: [anchor.publicKey] });
  await trust.install(bundle);
  const cardIds = Array.from({ length: 512 }, (_, i) => Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j) & 0xff));
  // Static codes: no replay state, so a cold loop measures decode + parse + SM2 + revocation only.
  const codes = cardIds.map((cardId) => issueCode({ key: issuer, type: 'static', cardId, iat: now - 10, ttl: 86400 }).text);
  const rows: BenchRow[] = [];
  const notes: string[] = [];

  // ---- cold, one core: alternated with its anchors run by run (a shared machine's load hits all alike).
  // Per CPU-second of this process, as `openssl speed` divides by its user time: time slices that other
  // processes take on a busy machine count for neither side.
  const cold = new Verifier({ trust, cache: { maxEntries: 0 } });
  const parts = splitBody(digitsToBytes(codes[0].slice(5))!);
  const nativeKey = issuer.publicKey.nativeKey();
  const za = issuer.publicKey.za();
  const derSig = sm2SignatureRawToDer(parts.signature);
  let i = 0;
  const coldRates: number[] = [];
  const nodeRates: number[] = [];
  const opensslRates: number[] = [];
  const coldOnce = () => {
    const res = cold.verifySync(codes[i++ % codes.length]);
    if (!res.ok) throw new Error(`bench code refused: ${res.code}`);
  };
  const bareOnce = () => void createVerify('sm3').update(za).update(parts.signedMessage).verify(nativeKey, derSig);
  for (let r = 0; r < 3; r++) {
    // Cold and bare verification interleaved in chunks of 20 (1 s of CPU each), then openssl for 1 s.
    const [c, b] = interleavedOpsPerCpuSecond([coldOnce, bareOnce], { minMs: 1000, chunk: 20 });
    coldRates.push(c);
    nodeRates.push(b);
    opensslRates.push(opensslVerifyRate(1));
  }
  const coldRate = median(coldRates);
  rows.push({ name: 'cold verify, one core (decode + claims + SM2 + revocation), per CPU-second', value: coldRate, unit: 'verify/s', anchor: { name: 'openssl speed sm2 (verify, per user CPU-second), alternated 3 × 1 s', value: median(opensslRates) } });
  rows.push({ name: 'cold verify, one core, per CPU-second', value: coldRate, unit: 'verify/s', anchor: { name: 'bare node:crypto createVerify(sm3) with cached key and ZA, per CPU-second', value: median(nodeRates) } });

  // sm-crypto (pure JS), same message and key: the library most Node projects use.
  const sm = createRequire(import.meta.url)('sm-crypto') as { sm2: { doVerifySignature(m: number[], s: string, p: string, o: object): boolean } };
  const msg = [...parts.signedMessage];
  const sigHex = Buffer.from(parts.signature).toString('hex');
  const pubHex = issuer.publicKey.toHex();
  const smRate = opsPerCpuSecond(() => void sm.sm2.doVerifySignature(msg, sigHex, pubHex, { hash: true, der: false }), { runs: 3, minMs: 1000 });
  rows.push({ name: 'sm-crypto 0.5.8 doVerifySignature (hash: true), same code, per CPU-second', value: smRate, unit: 'verify/s', anchor: { name: 'Yika cold verify, one core', value: coldRate } });

  // ---- cold, all cores through the pool
  const cores = cpus().length;
  const pool = new VerifyPool({ size: cores, always: true });
  const pooled = new Verifier({ trust, cache: { maxEntries: 0 }, offThread: pool });
  await Promise.all(codes.slice(0, 64).map((c) => pooled.verify(c))); // warm the workers (tsx start-up)
  const poolRates: number[] = [];
  for (let r = 0; r < 3; r++) {
    const batch = codes.length * 2;
    const start = performance.now();
    await Promise.all(Array.from({ length: batch }, (_, k) => pooled.verify(codes[k % codes.length])));
    poolRates.push((batch * 1000) / (performance.now() - start));
  }
  await pool.close();
  const opensslMulti = opensslVerifyRate(3, cores);
  rows.push({ name: `cold verify, ${cores} worker threads (verify pool)`, value: median(poolRates), unit: 'verify/s', anchor: { name: `openssl speed -multi ${cores} -seconds 3 sm2 (verify)`, value: opensslMulti } });

  // ---- cached
  const cached = new Verifier({ trust });
  const hot = codes[0];
  cached.verifySync(hot);
  const cachedRate = opsPerSecond(() => void cached.verifySync(hot), { runs: 5, minMs: 500, batch: 1000 });
  const bare = new Map([[hot, { ok: true }]]);
  const mapRate = opsPerSecond(() => void bare.get(hot), { runs: 5, minMs: 500, batch: 1000 });
  rows.push({ name: 'cached verify (same static code, full result object)', value: cachedRate, unit: 'verify/s', anchor: { name: 'bare Map.get of the text', value: mapRate } });
  // A cached text arriving as a new string each time (as from HTTP or a scanner): hashing included.
  const copies = Array.from({ length: 1024 }, () => (' ' + hot).slice(1));
  let j = 0;
  const freshRate = opsPerSecond(() => void cached.verifySync(copies[j++ & 1023]), { runs: 5, minMs: 500, batch: 1000 });
  rows.push({ name: 'cached verify, text as a fresh string per call', value: freshRate, unit: 'verify/s', anchor: { name: 'bare Map.get of the text', value: mapRate } });

  // ---- HTTP (fastify inject: no sockets, the same request pipeline)
  const service = new QrService({ anchors: [anchor.publicKey], poolSize: 0 });
  await service.installTrust(bundle);
  const app = Fastify();
  await app.register(async (v1) => qrRoutes(service)(v1), { prefix: '/v1' });
  app.post('/bare', async () => ({ ok: true, code: 'VALID' }));
  await app.ready();
  const payload = JSON.stringify({ text: hot });
  const headers = { 'content-type': 'application/json' };
  await service.verify(hot);
  // Alternate the two routes run by run, so that load from other processes hits both alike.
  const httpRates: number[] = [];
  const bareRates: number[] = [];
  for (let r = 0; r < 5; r++) {
    httpRates.push(await opsPerSecondAsync(() => app.inject({ method: 'POST', url: '/v1/qr/verify', payload, headers }), { runs: 1, minMs: 500 }));
    bareRates.push(await opsPerSecondAsync(() => app.inject({ method: 'POST', url: '/bare', payload, headers }), { runs: 1, minMs: 500 }));
  }
  const httpRate = median(httpRates);
  const bareRate = median(bareRates);
  rows.push({ name: 'HTTP POST /v1/qr/verify (cached), fastify inject', value: httpRate, unit: 'req/s', anchor: { name: 'bare fastify POST route, same body', value: bareRate } });
  await app.close();
  await service.close();

  notes.push(
    'Cold rows use distinct static codes with the verdict cache off; every verification decodes 319 digits, parses the claims, verifies SM2 (native OpenSSL via node:crypto) and looks up the revocation list.',
    'openssl speed is the C library alone (no decode, no claims; it computes ZA on every verification); a ratio near 1 means the verifier adds little around the signature check.',
    'One-core rows count operations per CPU-second of the bench process (process.cpuUsage, user + system), the way `openssl speed` divides by its user CPU time, so load from other processes does not lower one side only; the pool row is wall-clock. Cold verification and the bare createVerify run interleaved in chunks of 20 calls.',
    'The pool row includes structured-clone message passing; the daemon only offloads above a cold-rate threshold (default 200/s).',
    `Machine: ${cores} cores (${cpus()[0]?.model ?? 'unknown'}). Other processes on a shared machine lower all rows alike; compare ratios.`,
  );
  return { title: 'EHC1 QR verification', command: COMMAND, rows, notes };
}

// Runnable alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatSection } = await import('./report.ts');
  process.stdout.write(formatSection(await run()));
  process.exit(0);
}

