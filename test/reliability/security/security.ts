// Security checks: secure-channel tampering, replay and reordering against protocol/secure's record
// layer (a tampered, replayed or reordered record accepted = a wrong result); the API's refusals of
// foreign origins, bad Host headers, missing/wrong tokens from other machines, oversized bodies and
// bursts beyond the rate limit (fastify inject); and the privacy scan of every log line the suite's
// daemons produced (debug level) for cardholders' names, ID numbers, phones and the SAM PIN.
import { SecureRecordError, SecureRecordLayer, type DirectionKeys } from '../../../protocol/secure/record-layer.ts';
import { startDaemon, typedError } from '../kit/daemon-harness.ts';
import { suiteLogs } from '../kit/log-capture.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';
import { rng } from '../kit/rng.ts';

const keys = (r: ReturnType<typeof rng>): DirectionKeys => ({ enc: r.bytes(16), mac: r.bytes(16) });

export async function secureChannelTampering(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Security', 'secure channel: tamper, replay, reorder, truncate', o.seed);
  const r = rng(o.seed);
  const open = (rx: SecureRecordLayer, record: Uint8Array, what: string, expectOk: boolean, plain?: Uint8Array) => {
    try {
      const out = rx.open(record);
      if (!expectOk) t.wrong(`${what} was accepted`, { name: what.replace(/\W+/g, '-'), data: record });
      else if (plain && Buffer.compare(out, plain) !== 0) t.wrong(`${what}: opened to other bytes`);
      else t.count('intact record opened');
    } catch (e) {
      if (expectOk) t.wrong(`${what}: intact record refused (${(e as Error).message})`);
      else if (e instanceof SecureRecordError) t.count(`refused: ${e.reason}`);
      else t.error(e, () => what);
    }
  };
  for (let s = 0, sessions = scaled(o, 300, 20); s < sessions; s++) {
    const a = keys(r);
    const b = keys(r);
    const tx = new SecureRecordLayer({ send: a, receive: b });
    const rx = new SecureRecordLayer({ send: b, receive: a });
    const sent: Array<{ rec: Uint8Array; plain: Uint8Array }> = [];
    for (let i = 0, n = 5 + r.int(30); i < n; i++) {
      const plain = r.bytes(1 + r.int(300));
      const rec = tx.seal(plain);
      const k = r.int(6);
      if (k === 0) {
        const bad = rec.slice();
        bad[r.int(bad.length)] ^= 1 << r.int(8);
        open(rx, bad, 'bit-flipped record', false);
        open(rx, rec, 'intact record after a tampered copy', true, plain);
      } else if (k === 1 && sent.length) {
        open(rx, rec, 'intact record', true, plain);
        open(rx, r.pick(sent).rec, 'replayed record', false);
      } else if (k === 2) {
        const next = tx.seal(r.bytes(10));
        open(rx, next, 'later record first (a loss)', true);
        open(rx, rec, 'reordered (earlier) record', false);
      } else if (k === 3) {
        open(rx, rec.subarray(0, r.int(rec.length)), 'truncated record', false);
        open(rx, rec, 'intact record after a truncated copy', true, plain);
      } else open(rx, rec, 'intact record', true, plain);
      sent.push({ rec, plain });
    }
  }
  return t.done();
}

const TOKEN = 'reliability-token-0123456789';
const HIS = 'http://his.example.local:8080';

export async function apiRefusals(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Security', 'API refusals: origin, host, token, size, rate', o.seed);
  const r = rng(o.seed);
  const h = await startDaemon({
    seed: o.seed,
    tune: (c) => {
      c.api = { ...c.api, token: TOKEN, allowedOrigins: [HIS], rateLimit: { perSecond: 5, burst: 10 }, bodyLimit: 8 * 1024 };
    },
  });
  const expect = (what: string, res: { statusCode: number; body: string }, status: number, code: string) => {
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      body = undefined;
    }
    const got = typedError(body);
    if (res.statusCode === status && got === code) t.count(`${status} ${code}`);
    else if (res.statusCode < 400) t.wrong(`${what}: allowed (${res.statusCode}) instead of ${status} ${code}`);
    else if (!got || res.statusCode >= 500) t.crash(`${what}: ${res.statusCode} ${got ?? 'untyped'}`);
    else t.wrong(`${what}: ${res.statusCode} ${got} instead of ${status} ${code}`);
  };
  try {
    const inject = (opts: object) => h.app.server.inject(opts as never) as unknown as Promise<{ statusCode: number; body: string }>;
    for (let i = 0, n = scaled(o, 40, 4); i < n; i++) {
      const ip = `10.${r.int(250)}.${r.int(250)}.${1 + r.int(250)}`;
      // Each local request from its own loopback address: the rate limit (per client) stays out of these checks.
      const local = (k: number) => `127.${i}.${k}.${1 + r.int(250)}`;
      const origin = r.pick(['http://evil.example', 'null', 'http://his.example.local:8081', 'https://his.example.local:8080', 'http://his.example.local:8080.evil.example']);
      expect(`origin ${origin}`, await inject({ url: '/v1/readers', headers: { origin }, remoteAddress: local(1) }), 403, 'ORIGIN_NOT_ALLOWED');
      expect('bad Host', await inject({ url: '/v1/readers', headers: { host: r.pick(['evil.example', 'localhost.evil.example:7611', 'localhost:7611;x']) }, remoteAddress: local(2) }), 403, 'HOST_NOT_ALLOWED');
      expect('remote without token', await inject({ url: '/v1/readers/sim-1/healthcard', remoteAddress: ip }), 401, 'TOKEN_REQUIRED');
      expect('remote with a wrong token', await inject({ url: '/v1/readers/sim-1/healthcard', remoteAddress: ip, headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` } }), 401, 'TOKEN_INVALID');
      expect('oversized body', await inject({ method: 'POST', url: '/v1/qr/verify', payload: JSON.stringify({ text: 'EHC1:' + '1'.repeat(9000 + r.int(100_000)) }), headers: { 'content-type': 'application/json' }, remoteAddress: local(3) }), 413, 'BODY_TOO_LARGE');
      // Allowed: the HIS origin, and a remote client with the token.
      const ok = await inject({ url: '/v1/health', headers: { origin: HIS }, remoteAddress: local(4) });
      if (ok.statusCode === 200) t.count('allowed origin served'); else t.wrong(`allowed origin refused: ${ok.statusCode}`);
    }
    // A burst beyond the bucket from one client is refused with 429, and others are not affected.
    const ip = '127.0.0.99';
    let limited = 0;
    for (let i = 0; i < 30; i++) if ((await inject({ url: '/v1/health', remoteAddress: ip })).statusCode === 429) limited++;
    const last = await inject({ url: '/v1/readers', remoteAddress: ip });
    expect('burst beyond the rate limit', last, 429, 'RATE_LIMITED');
    if (limited >= 15) t.count('burst of 30 limited', limited);
    else t.wrong(`a burst of 30 against a bucket of 10 was limited only ${limited} times`);
    const other = await inject({ url: '/v1/health', remoteAddress: '127.0.0.98' });
    if (other.statusCode === 200) t.count('another client unaffected'); else t.wrong(`another client got ${other.statusCode} during a burst`);
  } finally {
    await h.close();
  }
  return t.done();
}

/** Runs last: every line the suite's daemons logged, scanned as it was written. */
export async function logPrivacyScan(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Security', 'log scan for cardholder data and the SAM PIN', o.seed);
  // The scan must be able to find something: a line with a watched value is caught.
  const probe = suiteLogs.hits.length;
  suiteLogs.watch('RELIABILITY-PROBE-7f3a', 'probe');
  suiteLogs.write('{"msg":"probe RELIABILITY-PROBE-7f3a"}\n');
  if (suiteLogs.hits.length !== probe + 1) t.crash('the scanner did not catch its own probe');
  suiteLogs.hits.splice(probe, 1);
  suiteLogs.lines--;
  for (const hit of suiteLogs.hits) t.wrong(`log line ${hit.line} contains a ${hit.label}`);
  t.count('log lines scanned', suiteLogs.lines);
  t.note(`${suiteLogs.lines.toLocaleString('en-US')} lines (${(suiteLogs.bytes / 1024).toFixed(0)} KiB) at debug level from every daemon of the run; ${suiteLogs.watched - 1} values watched (names, ID numbers, phones of every synthetic cardholder, the SAM PIN)`);
  return t.done();
}
