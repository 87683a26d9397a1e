// The daemon's QR service and routes over fastify inject: verify, stats, trust (read, install),
// scanner events without the card id, metrics by code, demo trust; nothing sensitive in the logs.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toErrorResponse } from '../../../daemon/api/error-map.ts';
import { qrRoutes } from '../../../daemon/api/routes/qr.ts';
import { EventBus } from '../../../daemon/events/event-bus.ts';
import type { DeliveredEvent } from '../../../daemon/events/event-types.ts';
import { Metrics } from '../../../daemon/metrics/metrics.ts';
import { QrService } from '../../../daemon/services/qr-service.ts';
import { demoAnchorPublicKey, issueDemoCode, DEMO_REVOKED_CARD } from '../../../qr/demo-trust.ts';
import { NOW, anchor, bundleBytes, cardId, code } from './qr-test-trust.ts';

const logLines: string[] = [];
const logger = {
  debug: (o: object, m: string) => logLines.push(JSON.stringify(o) + m),
  info: (o: object, m: string) => logLines.push(JSON.stringify(o) + m),
  warn: (o: object, m: string) => logLines.push(JSON.stringify(o) + m),
};

let app: FastifyInstance;
let service: QrService;
const events = new EventBus();
const metrics = new Metrics();
const seen: DeliveredEvent[] = [];

beforeAll(async () => {
  service = new QrService({ anchors: [anchor.publicKey.toHex()], events, metrics, logger, nowMs: () => NOW * 1000, poolSize: 0 });
  events.subscribe((e) => seen.push(e));
  app = Fastify();
  app.setErrorHandler((err, _req, reply) => {
    const { status, body } = toErrorResponse(err);
    void reply.status(status).send(body);
  });
  await app.register(async (v1) => qrRoutes(service)(v1), { prefix: '/v1' });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await service.close();
});

describe('QR service and routes', () => {
  it('without a bundle: NO_TRUSTLIST (200) and a degraded health entry', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/qr/verify', payload: { text: code() } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: false, code: 'NO_TRUSTLIST', bundleAge: null });
    expect(service.degraded().map((d) => d.component)).toContain('qr.trust');
  });

  it('POST /v1/qr/trust installs a signed bundle; a replayed older one is 409, garbage is 422', async () => {
    const install = (b: Uint8Array) => app.inject({ method: 'POST', url: '/v1/qr/trust', payload: { bundle: Buffer.from(b).toString('base64') } });
    const ok = await install(bundleBytes({ seq: 7 }));
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ state: 'fresh', seq: 7, ageSeconds: 3600 });
    expect((await install(bundleBytes({ seq: 7 }))).json()).toMatchObject({ error: { code: 'QR_TRUST_BUNDLE_NOT_NEWER' } });
    expect((await install(bundleBytes({ seq: 6 }))).statusCode).toBe(409);
    const bad = await install(new TextEncoder().encode('not a bundle'));
    expect([bad.statusCode, bad.json().error.code]).toEqual([422, 'QR_TRUST_BUNDLE_INVALID']);
    const get = await app.inject({ method: 'GET', url: '/v1/qr/trust' });
    expect(get.json()).toMatchObject({ seq: 7, keys: expect.arrayContaining([expect.objectContaining({ issuer: 'Test platform', status: 'active', types: ['dynamic', 'static'] })]) });
  });

  it('POST /v1/qr/verify returns the result with the card id; failures are 200 with their code', async () => {
    const t = code({ cardId: cardId(42) });
    const res = await app.inject({ method: 'POST', url: '/v1/qr/verify', payload: { text: t, terminal: 'desk-1' } });
    expect(res.json()).toMatchObject({ ok: true, code: 'VALID', claims: { cardId: Buffer.from(cardId(42)).toString('hex') }, bundleSeq: 7 });
    expect((await app.inject({ method: 'POST', url: '/v1/qr/verify', payload: { text: t, terminal: 'desk-2' } })).json().code).toBe('REPLAYED');
    expect((await app.inject({ method: 'POST', url: '/v1/qr/verify', payload: { text: 'EHC1:' + '1'.repeat(900) } })).json().code).toBe('TOO_LONG');
    expect((await app.inject({ method: 'POST', url: '/v1/qr/verify', payload: { text: 'x'.repeat(5000) } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/v1/qr/verify', payload: { nottext: 1 } })).statusCode).toBe(400);
  });

  it('scanner reads publish qr.scanned without the card id; the HIS fetches the full result by scanId', async () => {
    const t = code({ cardId: cardId(43), type: 'static', ttl: 3600 });
    const r = await service.scanned(t, { readerId: 'sim-1' });
    const ev = seen.find((e) => e.type === 'qr.scanned');
    expect(ev).toMatchObject({ type: 'qr.scanned', readerId: 'sim-1', result: { code: 'VALID', scanId: r.scanId, claims: { cardIdKind: 'card', ttl: 3600 } } });
    expect(JSON.stringify(ev)).not.toContain(Buffer.from(cardId(43)).toString('hex'));
    expect(JSON.stringify(ev)).not.toContain(t.slice(5, 40));
    const full = await app.inject({ method: 'GET', url: `/v1/qr/scans/${r.scanId}` });
    expect(full.json().claims.cardId).toBe(Buffer.from(cardId(43)).toString('hex'));
    expect((await app.inject({ method: 'GET', url: '/v1/qr/scans/sim-1-999' })).statusCode).toBe(404);
    // A bounce at the same reader returns the same result.
    expect((await service.scanned(t, { readerId: 'sim-1' })).bounce).toBe(true);
  });

  it('GET /v1/qr/stats counts results by code and cache hits; metrics carry the same', async () => {
    const stats = (await app.inject({ method: 'GET', url: '/v1/qr/stats' })).json();
    expect(stats.results).toMatchObject({ NO_TRUSTLIST: 1, VALID: 3, REPLAYED: 1, TOO_LONG: 1 }); // VALID: desk-1, the scan and its bounce
    expect(stats.cache.hits).toBeGreaterThanOrEqual(1);
    expect(stats.trust).toMatchObject({ state: 'fresh', seq: 7 });
    expect(metrics.get('yika_qr_results_total', { code: 'VALID' })).toBe(stats.results.VALID);
    expect(metrics.render()).toMatch(/yika_qr_cache_lookups_total\{result="hit"\} \d+/);
  });

  it('logs never contain QR text or card ids', () => {
    const all = logLines.join('\n');
    expect(all).not.toMatch(/\d{30}/);
    expect(all).not.toContain(Buffer.from(cardId(42)).toString('hex'));
    expect(all).not.toContain(Buffer.from(cardId(43)).toString('hex'));
  });
});

describe('QR service in demo mode (TEST ONLY)', () => {
  it('pins the demo anchor, installs the demo bundle and verifies demo codes; warns loudly', async () => {
    const lines: string[] = [];
    const demo = new QrService({ demo: true, poolSize: 0, logger: { info() {}, warn: (_o, m) => lines.push(m) } });
    try {
      expect(lines.join()).toMatch(/TEST-ONLY/);
      expect((await demo.verify(issueDemoCode().text)).code).toBe('VALID');
      expect((await demo.verify(issueDemoCode({ card: DEMO_REVOKED_CARD }).text)).code).toBe('CARD_REVOKED');
      expect(demo.trustInfo()).toMatchObject({ demo: true, state: 'fresh', source: 'demo' });
      expect(demo.trustInfo().anchorKid).toBe(Buffer.from((await import('../../../qr/trust-bundle.ts')).keyIdOf(demoAnchorPublicKey().toBytes())).toString('hex'));
    } finally {
      await demo.close();
    }
  });

  it('refuses to start without any anchor', () => {
    expect(() => new QrService({ poolSize: 0 })).toThrow(/no trust anchor/);
    expect(() => new QrService({ poolSize: 0, anchors: ['04abcd'] })).toThrow(/not an SM2 public key/);
  });
});
