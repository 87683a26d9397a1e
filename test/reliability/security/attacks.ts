// The attacks of the threat model (docs/SECURITY.md) as one reliability block, and the table of
// attacks that RELIABILITY.md shows under "Security". Each attack is tried many times with varied
// inputs against the whole daemon (fastify inject; the simulated reader counts its own APDUs); a
// success of the attacker is a wrong result. Attacks that need a real browser run in vitest
// (test/e2e/browser-attacks.test.ts) and are listed with their test.
//
// To add an attack: a row in ATTACKS (id, what, expected, test), and, when the block can run it,
// a try in attackRuns() that counts `refused` or `succeeded` under that id.
import type { DedicatedFile } from '../../../firmware-sim/card-os/file-system.ts';
import type { SimSam } from '../../../firmware-sim/cards/sam.ts';
import { startDaemon, type Harness, type Reply } from '../kit/daemon-harness.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';
import { rng } from '../kit/rng.ts';

export interface AttackRow {
  id: string;
  attack: string;
  expected: string;
  /** Where the attack runs: this block, a vitest file, or both. */
  test: string;
}

const ATTACKS: AttackRow[] = [
  { id: 'foreign-origin-flood', attack: 'a foreign page floods the API (Origin: another site), then the HIS asks', expected: '403 ORIGIN_NOT_ALLOWED before the rate limit; the HIS is served', test: 'this block; integration/api-attacks.test.ts' },
  { id: 'no-cors-probe', attack: '`<img src=…/healthcard>`, no-cors fetches, links: no Origin, Sec-Fetch-Site cross-site or same-site', expected: '403 before the reader lock; 0 APDUs reach the reader', test: 'this block; e2e/browser-attacks.test.ts (Chromium)' },
  { id: 'browser-flood', attack: 'a real Chromium page floods no-cors GETs for 5 s while the HIS reads the card', expected: 'every HIS read 200; the reader runs only the HIS reads', test: 'e2e/browser-attacks.test.ts (Chromium)' },
  { id: 'sam-pin-blocking', attack: 'wrong VERIFYs to the SAM slot through the raw routes (one APDU and batches), without a token and with the HIS token', expected: '401 TOKEN_REQUIRED / 403 APDU_REFUSED_BY_POLICY; SAM PIN retry counter unchanged', test: 'this block; integration/api-attacks.test.ts' },
  { id: 'card-key-blocking', attack: 'batches of wrong EXTERNAL AUTHENTICATEs to the user card', expected: 'the whole batch refused before its first command; every card key retry counter unchanged', test: 'this block; integration/api-attacks.test.ts' },
  { id: 'sam-oracle', attack: 'the verified SAM used for key derivation and cryptograms (80 DE, 80 FA)', expected: '403 APDU_REFUSED_BY_POLICY; nothing sent', test: 'this block; integration/api-attacks.test.ts' },
  { id: 'local-write', attack: 'a local program writes the card, powers slots, unmasks the trace without a token', expected: '401 TOKEN_REQUIRED; the card unchanged', test: 'this block; integration/api-attacks.test.ts' },
  { id: 'forged-forwarded-for', attack: 'through a trusted proxy: X-Forwarded-For chains claiming 127.0.0.1 / ::1', expected: '401: a relayed request is never loopback', test: 'this block; integration/api-attacks.test.ts' },
  { id: 'test-ca-serial', attack: '`yikad --sim --serial PTY --secure required` with a reader that presents the public TEST-ONLY identity', expected: 'the serial reader refused (SECURE_CHANNEL_NO_TRUST, said in /v1/health with the fix); only the in-process simulated reader is secured by the test CA; `--trust-test-ca` works for pseudo-terminals only, never a device node', test: 'integration/secure-device-trust.test.ts' },
  { id: 'downgrade', attack: "a reader that says `none` (or `supported` without a trusted vendor CA) under policy `preferred`", expected: 'plaintext is loud: warn log, reader health degraded with the reason (/v1/health, reader.health event); `required` refusals name what failed', test: 'integration/secure-device-trust.test.ts' },
  { id: 'kill-9-mid-write', attack: 'kill -9 of yikad in the middle of a long card write, then a restart with the same state directory', expected: 'the write reported (warn log, /v1/health, write.interrupted event, GET /v1/writes/interrupted) until acknowledged; no cardholder value in the journal', test: 'integration/write-interrupted.test.ts; unit/daemon/write-journal.test.ts' },
  { id: 'bad-values', attack: 'a phone `1391234567X999`, a non-JPEG photo, a name of 48 bytes for a 30-byte item', expected: '400 with the item, the real length and the maximum, before any APDU', test: 'unit/apdu/healthcard/item-value-checks.test.ts' },
  { id: 'websocket-slots', attack: 'a local program holds every WebSocket slot of its pool', expected: 'the front-desk page and the HIS origin still connect', test: 'integration/api-attacks.test.ts; e2e/browser-attacks.test.ts (Chromium)' },
];

const ATTACK_BLOCK = 'attacks of the threat model (docs/SECURITY.md)';
const HIS = 'http://his.example.local:8080';
const HIS_TOKEN = 'his-token-reliability-0123456789';
const PROXY = '10.9.9.9';
const NO_TOKEN = { authorization: '' };

export async function attackRuns(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Security', ATTACK_BLOCK, o.seed);
  const r = rng(o.seed);
  const h: Harness = await startDaemon({
    seed: o.seed,
    tune: (c) => {
      c.api = { ...c.api, token: HIS_TOKEN, allowedOrigins: [HIS], trustProxy: [PROXY], rateLimit: { perSecond: 50, burst: 40 } };
    },
  });
  const refused = (id: string) => t.count(`${id}: refused`);
  const succeeded = (id: string, what: string) => {
    t.result.outcomes[`${id}: ATTACKER SUCCEEDED`] = (t.result.outcomes[`${id}: ATTACKER SUCCEEDED`] ?? 0) + 1;
    t.wrong(`[${id}] ${what}`);
  };
  const apdus = async () => (await h.sim.reader.deviceInfo()).counters.apdus ?? 0;
  const pinTries = () => (h.sim.reader.cardIn(0x11) as SimSam).pinTriesLeft;
  const keyTries = () => {
    const mf = (h.sim.reader.cardIn(0x01) as unknown as { mf: DedicatedFile }).mf;
    return JSON.stringify([...mf.dedicatedFiles()].flatMap((df) => [...df.keys.values()].map((k) => k.triesLeft)));
  };
  const hex = (n: number) => Buffer.from(r.bytes(n)).toString('hex').toUpperCase();
  try {
    const n = scaled(o, 40, 3);
    for (let i = 0; i < n; i++) {
      // A different local address per round keeps the legitimate checks out of each other's buckets.
      const local = `127.${1 + (i % 200)}.${r.int(250)}.${1 + r.int(250)}`;
      const before = await apdus();
      // This round's attacker: one local address, no token unless given.
      const req = async (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
        const res = await h.app.server.inject({
          method: method as 'GET',
          url,
          remoteAddress: local,
          headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
          payload: payload === undefined ? undefined : JSON.stringify(payload),
        });
        let body: any;
        try {
          body = JSON.parse(res.body);
        } catch {
          body = undefined;
        }
        return { status: res.statusCode, body, text: res.body };
      };

      // Foreign origins, then the HIS.
      const origin = r.pick(['http://evil.example', 'http://localhost:8081', 'null', 'https://his.example.local:8080', 'http://127.0.0.1:9999']);
      let through = 0;
      // More than the bucket holds: if refusals were charged, the same address would be limited after.
      for (let k = 0; k < 60; k++) if ((await req('GET', '/v1/readers/sim-1/healthcard', undefined, { origin })).status !== 403) through++;
      const his = await h.inject('GET', '/v1/readers/sim-1', undefined, { ...NO_TOKEN, origin: HIS });
      const same = await req('GET', '/v1/readers/sim-1');
      if (through === 0 && his.status === 200 && same.status === 200) refused('foreign-origin-flood');
      else succeeded('foreign-origin-flood', `origin ${origin}: ${through} of 60 not refused; then the HIS origin got ${his.status}, the same address ${same.status}`);

      // Requests a browser sends without Origin from another site.
      const site = r.pick(['cross-site', 'same-site']);
      const dest = r.pick(['image', 'script', 'document', 'empty', 'iframe']);
      const path = r.pick(['/v1/readers/sim-1/healthcard', '/v1/readers/sim-1/healthcard/items?ids=11,15', '/v1/readers/sim-1/trace']);
      const probe = await req('GET', path, undefined, { 'sec-fetch-site': site, 'sec-fetch-dest': dest, 'sec-fetch-mode': dest === 'document' ? 'navigate' : 'no-cors' });
      if (probe.status === 403 && (await apdus()) === before) refused('no-cors-probe');
      else succeeded('no-cors-probe', `${site} ${dest} probe of ${path}: ${probe.status}, ${(await apdus()) - before} APDUs`);

      // The SAM PIN.
      const pin = pinTries();
      const verify = `0020000003${hex(3)}`;
      const samSlot = r.pick(['17', '0x11', '18', '0x14']);
      const viaBatch = r.int(2) === 0;
      const auth: Record<string, string> = r.pick<Record<string, string>>([{}, { authorization: `Bearer ${HIS_TOKEN}` }]);
      const a = viaBatch
        ? await req('POST', `/v1/readers/sim-1/slots/${samSlot}/batch`, { commands: Array.from({ length: 3 }, () => ({ apdu: verify })) }, auth)
        : await req('POST', `/v1/readers/sim-1/slots/${samSlot}/apdu`, { apdu: verify }, auth);
      if ((a.status === 401 || a.status === 403) && pinTries() === pin && (await apdus()) === before) refused('sam-pin-blocking');
      else succeeded('sam-pin-blocking', `SAM VERIFY (${viaBatch ? 'batch' : 'apdu'}, slot ${samSlot}): ${a.status}, tries ${pin} → ${pinTries()}`);

      // The card keys.
      const keys = keyTries();
      const wrongAuth = { apdu: `008200${r.pick(['05', '04', '01'])}11${hex(16)}04`, expect: [{ sw: '0000', mask: '0000' }] };
      const batch = [{ apdu: '00A4000002DDF1' }, ...Array.from({ length: 16 }, () => [{ apdu: '0084000008' }, wrongAuth]).flat()];
      const k = await req('POST', '/v1/readers/sim-1/slots/1/batch', { commands: batch }, auth);
      if ((k.status === 401 || k.status === 403) && keyTries() === keys && (await apdus()) === before) refused('card-key-blocking');
      else succeeded('card-key-blocking', `EXTERNAL AUTHENTICATE batch: ${k.status}, key counters ${keys} → ${keyTries()}`);

      // The SAM as an oracle.
      const oracle = r.pick([`80DE0000${'08'}${hex(8)}`, `80FA0000${'10'}${hex(16)}`, `80FA0500${'10'}${hex(16)}`]);
      const q = await req('POST', `/v1/readers/sim-1/slots/${samSlot}/apdu`, { apdu: oracle }, { authorization: `Bearer ${HIS_TOKEN}` });
      if (q.status === 403 && q.body?.error?.code === 'APDU_REFUSED_BY_POLICY' && (await apdus()) === before) refused('sam-oracle');
      else succeeded('sam-oracle', `SAM oracle ${oracle.slice(0, 4)}: ${q.status}`);

      // Local writes and other harmful operations without a token.
      const harmful = r.pick([
        ['PUT', '/v1/readers/sim-1/healthcard/items', { items: { 17: `139${String(r.int(1e8)).padStart(8, '0')}` } }],
        ['POST', '/v1/readers/sim-1/slots/1/power', { action: 'off' }],
        ['PUT', '/v1/readers/sim-1/trace', { enabled: true, maskData: false }],
        ['POST', '/v1/readers/sim-1/lease', {}],
      ] as const);
      const w = await req(harmful[0], harmful[1], harmful[2]);
      if (w.status === 401 && w.body?.error?.code === 'TOKEN_REQUIRED' && (await apdus()) === before) refused('local-write');
      else succeeded('local-write', `${harmful[0]} ${harmful[1]} without a token: ${w.status}`);

      // Forged X-Forwarded-For through the trusted proxy.
      const chain = r.pick(['127.0.0.1', '::1', '127.0.0.1, 203.0.113.9', `${local}, 198.51.100.${r.int(250)}`, '::ffff:127.0.0.1', 'localhost', '']);
      const f = await h.app.server.inject({ url: '/v1/readers', remoteAddress: PROXY, headers: chain ? { 'x-forwarded-for': chain } : {} });
      if (f.statusCode === 401) refused('forged-forwarded-for');
      else succeeded('forged-forwarded-for', `X-Forwarded-For "${chain}" through the proxy: ${f.statusCode}`);
    }
    // The reader still works for the HIS after all that.
    const read = await h.inject('GET', '/v1/readers/sim-1/healthcard?files=DDF1/EF05', undefined, { authorization: `Bearer ${HIS_TOKEN}` });
    if (read.status === 200 && pinTries() === 3) t.count('HIS read afterwards: 200, SAM PIN tries 3');
    else t.wrong(`HIS read afterwards: ${read.status}, SAM PIN tries ${pinTries()}`);
  } finally {
    await h.close();
  }
  return t.done();
}

/** Tries and successes per attack id, from the block's outcomes (`<id>: refused`) and failures. */
function attackTally(result: BlockResult | undefined, id: string): { tries: number; successes: number } | undefined {
  if (!result) return undefined;
  const refusedCount = result.outcomes[`${id}: refused`] ?? 0;
  const successes = result.outcomes[`${id}: ATTACKER SUCCEEDED`] ?? 0;
  if (refusedCount + successes === 0) return undefined;
  return { tries: refusedCount + successes, successes };
}

/**
 * The attack table of RELIABILITY.md ("Security"): one row per attack. Rows this block ran carry its
 * tries and the attacker's successes; rows only a vitest file runs say so (they fail `npm test` if
 * an attack succeeds).
 */
export function renderAttackTable(results: BlockResult[]): string[] {
  const block = results.find((r) => r.name === ATTACK_BLOCK);
  const cell = (x: string) => x.replace(/\|/g, '\\|');
  const lines = ['### Attacks', '', '| Attack | Expected | Tries | Attacker successes | Test |', '|---|---|---:|---:|---|'];
  for (const a of ATTACKS) {
    const tally = attackTally(block, a.id);
    const tries = tally ? tally.tries.toLocaleString('en-US') : 'every `npm test`';
    const successes = tally ? String(tally.successes) : '0 (asserted)';
    lines.push(`| ${cell(a.attack)} | ${cell(a.expected)} | ${tries} | ${successes} | ${cell(a.test)} |`);
  }
  return lines;
}
