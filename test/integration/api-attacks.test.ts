// The attacks of issue 15 against the whole daemon (createApp, in-process simulated reader with its
// SAM), over real HTTP and WebSocket connections from this process — the way a local program or a
// browser's requests arrive. Each attack must fail, and the test checks what the attacker wanted to
// spend or destroy: rate-limit budget, reader time (APDUs counted by the simulator itself), the SAM
// PIN retry counter, the card keys' retry counters, WebSocket slots.
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildServer } from '../../daemon/api/server.ts';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import type { DedicatedFile } from '../../firmware-sim/card-os/file-system.ts';
import type { SimSam } from '../../firmware-sim/cards/sam.ts';
import { createSimulator, DEFAULT_SAM_PIN, type Simulator } from '../../firmware-sim/index.ts';
import { fakeContext } from '../unit/api/fake-context.ts';
import { until } from '../support/until.ts';

const HIS = 'http://his.example.local:8080';
const EVIL = 'http://evil.example';
const TOKEN = 'his-token-0123456789abcdef';
const VENDOR = 'vendor-tool-token-0123456789';
const READ_ONLY = 'read-only-token-0123456789';

let sim: Simulator;
let app: YikaApp;
let base: URL;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

interface Answer {
  status: number;
  body: any;
}

/** One HTTP request with exactly these headers (a curl-like client: no Origin unless given). */
function request(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: base.hostname, port: base.port, path, method, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
/** APDUs the simulated reader has processed (its own counter, not the daemon's). */
const simApdus = async (): Promise<number> => (await sim.reader.deviceInfo()).counters.apdus ?? 0;
const daemonApdus = (): number => app.metrics.get('yika_apdus_total', { reader: 'sim-1' });
const sam = (): SimSam => sim.reader.cardIn(0x11) as SimSam;
/** Every key retry counter of the card in slot 1. */
function cardKeyTries(): number[] {
  const mf = (sim.reader.cardIn(0x01) as unknown as { mf: DedicatedFile }).mf;
  return [...mf.dedicatedFiles()].flatMap((df) => [...df.keys.values()].map((k) => k.triesLeft));
}

beforeAll(async () => {
  sim = createSimulator({ seed: 15 });
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), {});
  config.api = {
    allowedOrigins: [HIS],
    token: TOKEN,
    tokens: [
      { name: 'vendor', token: VENDOR, capabilities: ['apdu', 'apdu.restricted'] },
      { name: 'viewer', token: READ_ONLY, capabilities: [] },
    ],
    rateLimit: { perSecond: 20, burst: 60 },
    websocket: { maxSubscribers: 2 },
  };
  app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  base = new URL(await app.listen());
  await until('sim-1 with card and SAM', () => {
    const slots = app.registry.find('sim-1')?.toJSON().slots;
    return slots?.find((s) => s.slot === 1)?.card === 'present' && slots.find((s) => s.slot === 0x11)?.card === 'present';
  });
}, 60_000);

afterAll(async () => {
  agent.destroy();
  await app?.close();
  await sim?.close();
});

describe('cross-site requests are refused before they cost anything', () => {
  it('a flood with a foreign Origin gets 403 every time, never 429, and the next legitimate requests succeed', async () => {
    const before = await simApdus();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const r = await request('GET', '/v1/readers/sim-1/healthcard', { origin: EVIL });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 403: 300 });
    expect((await request('GET', '/v1/readers')).status).toBe(200);
    expect((await request('GET', '/v1/readers', { origin: HIS })).status).toBe(200);
    expect(await simApdus()).toBe(before);
  });

  it('a no-cors flood (no Origin, Sec-Fetch-Site: cross-site) gets 403, and a HIS request in the middle of it succeeds', async () => {
    const flood = Array.from({ length: 300 }, () => request('GET', '/v1/readers/sim-1/healthcard', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'empty' }));
    const his = await request('GET', '/v1/readers/sim-1/healthcard/items?ids=1,3', { origin: HIS });
    const results = await Promise.all(flood);
    expect(results.every((r) => r.status === 403 && r.body.error.code === 'ORIGIN_NOT_ALLOWED')).toBe(true);
    expect(his.status).toBe(200);
    expect((await request('GET', '/v1/readers/sim-1')).status).toBe(200);
  });

  it('Sec-Fetch-Site probes: <img> (cross-site, dest image) and same-site pages without an allowed Origin run no APDU', async () => {
    const apdusBefore = await simApdus();
    const daemonBefore = daemonApdus();
    const probes: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'image', 'sec-fetch-mode': 'no-cors' },
      { 'sec-fetch-site': 'same-site', 'sec-fetch-dest': 'image', 'sec-fetch-mode': 'no-cors' },
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' },
      { 'sec-fetch-site': 'same-site', origin: 'http://localhost:8080' },
      { 'sec-fetch-site': 'cross-site', origin: EVIL },
    ];
    for (const headers of probes) {
      for (const path of ['/v1/readers/sim-1/healthcard', '/v1/readers/sim-1/healthcard/items?ids=11,15']) {
        const r = await request('GET', path, headers);
        expect(r.status, JSON.stringify(headers)).toBe(403);
        expect(r.body.error.code).toBe('ORIGIN_NOT_ALLOWED');
      }
    }
    expect(await simApdus()).toBe(apdusBefore);
    expect(daemonApdus()).toBe(daemonBefore);
    // The user typing the URL (Sec-Fetch-Site: none) and the daemon's own page (same-origin) still read.
    expect((await request('GET', '/v1/readers/sim-1/healthcard?files=DDF1/EF05', { 'sec-fetch-site': 'none' })).status).toBe(200);
    expect((await request('GET', '/v1/readers/sim-1/healthcard?files=DDF1/EF05', { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect(await simApdus()).toBeGreaterThan(apdusBefore); // the counter does count reads
  });
});

describe('the SAM and the card keys cannot be harmed through the raw routes', () => {
  const WRONG_VERIFY = '0020000003999999';

  it('SAM PIN blocking: three wrong VERIFYs are refused without a token and with the HIS token; the retry counter is unchanged, reads work', async () => {
    const tries = sam().pinTriesLeft;
    expect(tries).toBe(3);
    const before = await simApdus();
    for (let i = 0; i < 3; i++) {
      const none = await request('POST', '/v1/readers/sim-1/slots/17/apdu', {}, { apdu: WRONG_VERIFY });
      expect(none.status).toBe(401);
      expect(none.body.error).toMatchObject({ code: 'TOKEN_REQUIRED', details: { capability: 'apdu' } });
      const his = await request('POST', '/v1/readers/sim-1/slots/0x11/apdu', bearer(TOKEN), { apdu: WRONG_VERIFY });
      expect(his.status).toBe(403);
      expect(his.body.error).toMatchObject({ code: 'APDU_REFUSED_BY_POLICY', details: { capability: 'apdu.restricted' } });
    }
    const batch = await request('POST', '/v1/readers/sim-1/slots/17/batch', bearer(TOKEN), { commands: [{ apdu: WRONG_VERIFY }, { apdu: WRONG_VERIFY }, { apdu: WRONG_VERIFY }] });
    expect(batch.body.error.code).toBe('APDU_REFUSED_BY_POLICY');
    // The SAM as an oracle: key derivation and cipher commands.
    for (const apdu of ['80DE000008' + '11'.repeat(8), '80FA000010' + '22'.repeat(16)]) {
      expect((await request('POST', '/v1/readers/sim-1/slots/17/apdu', bearer(TOKEN), { apdu })).body.error.code).toBe('APDU_REFUSED_BY_POLICY');
    }
    expect(await simApdus()).toBe(before);
    expect(sam().pinTriesLeft).toBe(tries);
    expect((await request('GET', '/v1/readers/sim-1/healthcard?files=DDF1/EF05')).status).toBe(200);
  });

  it('card-key blocking: 16 wrong EXTERNAL AUTHENTICATEs in one batch are refused before the first command; every key counter is unchanged', async () => {
    const keys = cardKeyTries();
    expect(keys.length).toBeGreaterThan(0);
    const wrongAuth = { apdu: '0082000511' + '00'.repeat(16) + '04', expect: [{ sw: '0000', mask: '0000' }] };
    const commands = [{ apdu: '00A4000002DDF1' }, ...Array.from({ length: 16 }, () => [{ apdu: '0084000008' }, wrongAuth]).flat()];
    const before = await simApdus();
    const none = await request('POST', '/v1/readers/sim-1/slots/1/batch', {}, { commands });
    expect(none.body.error.code).toBe('TOKEN_REQUIRED');
    const his = await request('POST', '/v1/readers/sim-1/slots/1/batch', bearer(TOKEN), { commands });
    expect(his.status).toBe(403);
    expect(his.body.error).toMatchObject({ code: 'APDU_REFUSED_BY_POLICY', details: { index: 2 } });
    expect(await simApdus()).toBe(before);
    expect(cardKeyTries()).toEqual(keys);
    // Ordinary raw APDUs still work with the HIS token.
    const select = await request('POST', '/v1/readers/sim-1/slots/1/apdu', bearer(TOKEN), { apdu: '00A4000002DDF1' });
    expect(select.status).toBe(200);
  });

  it('the policy is what stops it: a token with apdu.restricted does reach the SAM (one wrong PIN spends a try; the right one restores it)', async () => {
    expect((await request('POST', '/v1/readers/sim-1/slots/17/power', bearer(VENDOR), { action: 'on' })).status).toBe(200);
    const wrong = await request('POST', '/v1/readers/sim-1/slots/17/apdu', bearer(VENDOR), { apdu: WRONG_VERIFY });
    expect(wrong.status).toBe(200);
    expect(wrong.body.sw).toBe('63C2');
    expect(sam().pinTriesLeft).toBe(2);
    const pin = Buffer.from(DEFAULT_SAM_PIN, 'hex').toString('hex').toUpperCase();
    const right = await request('POST', '/v1/readers/sim-1/slots/17/apdu', bearer(VENDOR), { apdu: `00200000${(pin.length / 2).toString(16).padStart(2, '0')}${pin}`, sensitive: 'command' });
    expect(right.body.sw).toBe('9000');
    expect(sam().pinTriesLeft).toBe(3);
  });
});

describe('capabilities', () => {
  it('writes, power, unmasked traces and trust installs need a token with the capability, also from loopback', async () => {
    const write = { items: { 17: '13900000015' } };
    const cases: Array<[string, string, unknown, string]> = [
      ['PUT', '/v1/readers/sim-1/healthcard/items', write, 'write'],
      ['POST', '/v1/readers/sim-1/slots/1/power', { action: 'reset' }, 'apdu'],
      ['POST', '/v1/readers/sim-1/slots/1/apdu', { apdu: '00A40000023F00' }, 'apdu'],
      ['POST', '/v1/readers/sim-1/lease', {}, 'apdu'],
      ['PUT', '/v1/readers/sim-1/trace', { maskData: false }, 'trace.unmasked'],
      ['POST', '/v1/qr/trust', { bundle: 'AAAA' }, 'trust.install'],
    ];
    for (const [method, path, body, capability] of cases) {
      const none = await request(method, path, {}, body);
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.body.error).toMatchObject({ code: 'TOKEN_REQUIRED', details: { capability } });
      const viewer = await request(method, path, bearer(READ_ONLY), body);
      expect(viewer.status, `${method} ${path}`).toBe(403);
      expect(viewer.body.error).toMatchObject({ code: 'CAPABILITY_MISSING', details: { capability } });
    }
    // With the HIS token everything works as before.
    expect((await request('PUT', '/v1/readers/sim-1/healthcard/items', bearer(TOKEN), write)).status).toBe(200);
    expect(String((await request('GET', '/v1/readers/sim-1/healthcard/items?ids=17&format=pipe')).body)).toBe('13900000015');
    expect((await request('PUT', '/v1/readers/sim-1/trace', bearer(TOKEN), { enabled: true, maskData: false, clear: true })).status).toBe(200);
    await request('GET', '/v1/readers/sim-1/healthcard/items?ids=11');
    // A trace holding unmasked data is not readable without trace.unmasked.
    expect((await request('GET', '/v1/readers/sim-1/trace')).body.error.code).toBe('TOKEN_REQUIRED');
    expect((await request('GET', '/v1/readers/sim-1/trace', bearer(TOKEN))).status).toBe(200);
    expect((await request('PUT', '/v1/readers/sim-1/trace', bearer(TOKEN), { enabled: false, maskData: true, clear: true })).status).toBe(200);
    expect((await request('GET', '/v1/readers/sim-1/trace')).status).toBe(200);
  });

  it('the OpenAPI document says what each operation needs (x-yika-capability, bearer security)', async () => {
    const doc = (await request('GET', '/v1/openapi.json')).body;
    const op = (path: string, method: string) => doc.paths[path][method];
    expect(op('/v1/readers/{id}/healthcard', 'get')['x-yika-capability']).toBe('read');
    expect(op('/v1/readers/{id}/healthcard/items', 'put')['x-yika-capability']).toBe('write');
    expect(op('/v1/readers/{id}/healthcard/items', 'put').security).toEqual([{ bearer: [] }]);
    expect(op('/v1/readers/{id}/slots/{slot}/apdu', 'post')['x-yika-capability']).toBe('apdu');
    expect(op('/v1/qr/trust', 'post')['x-yika-capability']).toBe('trust.install');
    expect(op('/v1/qr/verify', 'post')['x-yika-capability']).toBe('read');
  });
});

describe('WebSocket slots are reserved per pool', () => {
  function connect(headers: Record<string, string> = {}): Promise<{ ws: WebSocket; outcome: 'hello' | number }> {
    const ws = new WebSocket(`ws://${base.host}/v1/events`, { headers });
    return new Promise((resolve, reject) => {
      ws.once('message', () => resolve({ ws, outcome: 'hello' }));
      ws.once('close', (code) => resolve({ ws, outcome: code }));
      ws.once('error', reject);
    });
  }

  it('a local client holding every slot of its pool does not keep the page, the HIS origin or a token client out', async () => {
    const open: WebSocket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const c = await connect();
        expect(c.outcome).toBe('hello');
        open.push(c.ws);
      }
      const third = await connect();
      expect(third.outcome).toBe(1013);
      for (const headers of [{ origin: `http://${base.host}` }, { origin: HIS }, bearer(TOKEN)]) {
        const c = await connect(headers);
        expect(c.outcome, JSON.stringify(headers)).toBe('hello');
        open.push(c.ws);
      }
    } finally {
      for (const ws of open) ws.terminate();
    }
  });
});

describe('forged X-Forwarded-For chains', () => {
  let proxied: FastifyInstance;
  let proxiedBase: URL;
  beforeAll(async () => {
    proxied = await buildServer(fakeContext(), { listen: '127.0.0.1:0', token: TOKEN, trustProxy: ['127.0.0.1', '::1'], rateLimit: false });
    await proxied.listen({ host: '127.0.0.1', port: 0 });
    proxiedBase = new URL(`http://127.0.0.1:${(proxied.server.address() as { port: number }).port}`);
  });
  afterAll(async () => {
    await proxied?.close();
  });
  const via = (xff: string | undefined, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) => {
      const req = http.get({ host: proxiedBase.hostname, port: proxiedBase.port, path: '/v1/health', headers: { ...(xff === undefined ? {} : { 'x-forwarded-for': xff }), ...headers } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });

  it('behind a trusted proxy, no header makes a request loopback: 401 without the token, 200 with it', async () => {
    for (const xff of ['127.0.0.1, 203.0.113.9', '::1', '127.0.0.1', '::ffff:127.0.0.1', 'localhost', '203.0.113.9, 127.0.0.1', '', undefined]) {
      expect(await via(xff), String(xff)).toBe(401);
      expect(await via(xff, { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }), String(xff)).toBe(401);
      expect(await via(xff, bearer(TOKEN)), String(xff)).toBe(200);
    }
  });

  it('without trustProxy the header is ignored: a loopback peer stays loopback, a remote one stays remote', async () => {
    const plain = await buildServer(fakeContext(), { listen: '127.0.0.1:0', token: TOKEN, rateLimit: false });
    try {
      expect((await plain.inject({ url: '/v1/health', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' } })).statusCode).toBe(200);
      expect((await plain.inject({ url: '/v1/health', remoteAddress: '198.51.100.4', headers: { 'x-forwarded-for': '127.0.0.1' } })).statusCode).toBe(401);
      expect((await plain.inject({ url: '/v1/health', remoteAddress: '198.51.100.4', headers: { 'x-forwarded-for': '::1' } })).statusCode).toBe(401);
    } finally {
      await plain.close();
    }
  });
});

// Last: it empties this process's local bucket.
describe('rate limit per identity', () => {
  it('rate limits per identity: a local flood is limited, the HIS origin and the HIS token are not', async () => {
    // The bucket holds 60 and refills 20/s: however slow the machine, at most 60 + 20/s of a burst pass.
    const allowance = (started: number) => 60 + Math.ceil(((performance.now() - started) / 1000) * 20) + 1;
    let t0 = performance.now();
    const local = await Promise.all(Array.from({ length: 200 }, () => request('GET', '/v1/health')));
    expect(local.filter((r) => r.status === 200).length).toBeLessThanOrEqual(allowance(t0));
    expect(local.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect((await request('GET', '/v1/health', { origin: HIS })).status).toBe(200);
    expect((await request('GET', '/v1/health', bearer(TOKEN))).status).toBe(200);
    // Wrong tokens are charged to the peer: guessing is as slow as any local flood.
    t0 = performance.now();
    const guesses = await Promise.all(Array.from({ length: 200 }, (_, i) => request('GET', '/v1/health', bearer(`guess-${i}-${'x'.repeat(24)}`))));
    expect(guesses.filter((r) => r.status === 401).length).toBeLessThanOrEqual(allowance(t0));
    expect(guesses.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(guesses.every((r) => r.status === 429 || r.status === 401)).toBe(true);
  });
});
