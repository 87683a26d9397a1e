// The API's security policy and error shape, against a server built from a test context.
// Remote clients are simulated with inject's remoteAddress; WebSockets use a real loopback socket.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { allErrorCodes } from '../../common/error-catalog.ts';
import { buildServer } from '../../daemon/api/server.ts';
import { fakeContext, type FakeContext } from '../unit/api/fake-context.ts';

const HIS = 'http://his.example.local:8080';
const TOKEN = 'test-token-0123456789abcdef';

function expectErrorShape(body: unknown, code: string): void {
  expect(body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String), messageZh: expect.stringMatching(/[\u4e00-\u9fff]/) }) });
  const keys = Object.keys((body as { error: object }).error);
  expect(keys.every((k) => ['code', 'message', 'messageZh', 'details'].includes(k))).toBe(true);
}

describe('API security policy', () => {
  let ctx: FakeContext;
  let app: FastifyInstance;
  beforeAll(async () => {
    ctx = fakeContext();
    app = await buildServer(ctx, { listen: '127.0.0.1:0', allowedOrigins: [HIS], token: TOKEN, rateLimit: false, bodyLimit: 4096 });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  describe('browser origins', () => {
    it('allows an allow-listed origin with CORS headers and Vary: Origin', async () => {
      const r = await app.inject({ url: '/v1/demo/abc', headers: { origin: HIS } });
      expect(r.statusCode).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBe(HIS);
      expect(String(r.headers.vary)).toMatch(/Origin/);
    });

    it('refuses a request from another origin with 403 ORIGIN_NOT_ALLOWED and no CORS grant', async () => {
      const r = await app.inject({ url: '/v1/demo/abc', headers: { origin: 'http://evil.example' } });
      expect(r.statusCode).toBe(403);
      expectErrorShape(r.json(), 'ORIGIN_NOT_ALLOWED');
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('refuses the opaque origin "null" (sandboxed frames, file://)', async () => {
      const r = await app.inject({ url: '/v1/health', headers: { origin: 'null' } });
      expect(r.statusCode).toBe(403);
    });

    it('refuses a look-alike origin (other port, other scheme, suffix)', async () => {
      for (const origin of ['http://his.example.local:8081', 'https://his.example.local:8080', 'http://his.example.local:8080.evil.example']) {
        const r = await app.inject({ url: '/v1/health', headers: { origin } });
        expect(r.statusCode, origin).toBe(403);
      }
    });

    it("allows the daemon's own page (same origin) without a CORS grant", async () => {
      const r = await app.inject({ url: '/v1/health', headers: { host: '127.0.0.1:7611', origin: 'http://127.0.0.1:7611' } });
      expect(r.statusCode).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('answers a CORS preflight for an allowed origin', async () => {
      const r = await app.inject({
        method: 'OPTIONS',
        url: '/v1/demo/echo',
        headers: { origin: HIS, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-evil' },
      });
      expect(r.statusCode).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe(HIS);
      expect(String(r.headers['access-control-allow-methods'])).toContain('POST');
      expect(String(r.headers['access-control-allow-headers'])).toContain('content-type');
      expect(String(r.headers['access-control-allow-headers'])).not.toContain('x-evil');
      expect(r.headers['access-control-max-age']).toBe('600');
      expect(r.headers['access-control-allow-private-network']).toBeUndefined();
    });

    it('answers the Private Network Access preflight only for allowed origins', async () => {
      const pna = { 'access-control-request-method': 'GET', 'access-control-request-private-network': 'true' };
      const ok = await app.inject({ method: 'OPTIONS', url: '/v1/health', headers: { origin: HIS, ...pna } });
      expect(ok.statusCode).toBe(204);
      expect(ok.headers['access-control-allow-private-network']).toBe('true');
      const bad = await app.inject({ method: 'OPTIONS', url: '/v1/health', headers: { origin: 'https://public.example', ...pna } });
      expect(bad.statusCode).toBe(403);
      expect(bad.headers['access-control-allow-private-network']).toBeUndefined();
      expectErrorShape(bad.json(), 'ORIGIN_NOT_ALLOWED');
    });
  });

  describe('bearer token for remote clients', () => {
    it('needs no token from loopback', async () => {
      expect((await app.inject({ url: '/v1/health', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/v1/health', remoteAddress: '::1' })).statusCode).toBe(200);
    });

    it('refuses a remote client without a token: 401 TOKEN_REQUIRED', async () => {
      const r = await app.inject({ url: '/v1/health', remoteAddress: '192.168.1.20' });
      expect(r.statusCode).toBe(401);
      expectErrorShape(r.json(), 'TOKEN_REQUIRED');
    });

    it('refuses a wrong or malformed token: 401 TOKEN_INVALID', async () => {
      for (const authorization of [`Bearer ${TOKEN}x`, `Basic ${TOKEN}`, 'Bearer', `Bearer ${TOKEN.slice(0, -1)}`]) {
        const r = await app.inject({ url: '/v1/health', remoteAddress: '192.168.1.20', headers: { authorization } });
        expect(r.statusCode, authorization).toBe(401);
        expect(r.json().error.code).toBe(authorization === 'Bearer' ? 'TOKEN_INVALID' : 'TOKEN_INVALID');
      }
    });

    it('accepts the right token from a remote client', async () => {
      const r = await app.inject({ url: '/v1/demo/abc', remoteAddress: '192.168.1.20', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(r.statusCode).toBe(200);
    });

    it('treats an IPv4-mapped non-loopback address as remote', async () => {
      expect((await app.inject({ url: '/v1/health', remoteAddress: '::ffff:10.1.2.3' })).statusCode).toBe(401);
      expect((await app.inject({ url: '/v1/health', remoteAddress: '::ffff:127.0.0.1' })).statusCode).toBe(200);
    });

    it('a mutating route that names no capability is closed: it needs a token with write, also from loopback', async () => {
      const closed = await buildServer(
        fakeContext([
          (v1) => {
            v1.post('/demo/new', { schema: { response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } }, async () => ({ ok: true }));
          },
        ]),
        { listen: '127.0.0.1:0', token: TOKEN, rateLimit: false },
      );
      try {
        const none = await closed.inject({ method: 'POST', url: '/v1/demo/new', remoteAddress: '127.0.0.1' });
        expect(none.statusCode).toBe(401);
        expect(none.json().error).toMatchObject({ code: 'TOKEN_REQUIRED', details: { capability: 'write' } });
        expect((await closed.inject({ method: 'POST', url: '/v1/demo/new', remoteAddress: '127.0.0.1', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
      } finally {
        await closed.close();
      }
    });

    it('never trusts X-Forwarded-For by default', async () => {
      const r = await app.inject({ url: '/v1/health', remoteAddress: '10.0.0.9', headers: { 'x-forwarded-for': '127.0.0.1' } });
      expect(r.statusCode).toBe(401);
    });
  });

  describe('Host header (DNS rebinding)', () => {
    it('refuses a foreign DNS name', async () => {
      const r = await app.inject({ url: '/v1/health', headers: { host: 'attacker.example:7611' } });
      expect(r.statusCode).toBe(403);
      expectErrorShape(r.json(), 'HOST_NOT_ALLOWED');
    });

    it('accepts loopback names and IP literals', async () => {
      for (const host of ['localhost:7611', '127.0.0.1:7611', '[::1]:7611', 'LOCALHOST', '192.168.1.5:7611']) {
        expect((await app.inject({ url: '/v1/health', headers: { host } })).statusCode, host).toBe(200);
      }
    });
  });

  describe('limits', () => {
    it('refuses an oversize body with 413 BODY_TOO_LARGE', async () => {
      const r = await app.inject({ method: 'POST', url: '/v1/demo/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ text: 'x'.repeat(5000) }) });
      expect(r.statusCode).toBe(413);
      expectErrorShape(r.json(), 'BODY_TOO_LARGE');
    });

    it('refuses invalid JSON and schema violations with 400 BAD_REQUEST', async () => {
      const bad = await app.inject({ method: 'POST', url: '/v1/demo/echo', headers: { 'content-type': 'application/json' }, payload: '{"text":' });
      expect(bad.statusCode).toBe(400);
      expectErrorShape(bad.json(), 'BAD_REQUEST');
      const missing = await app.inject({ method: 'POST', url: '/v1/demo/echo', payload: { other: 1 } });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error.details.issues[0]).toMatch(/text/);
      const query = await app.inject({ url: '/v1/demo/abc?n=9' });
      expect(query.statusCode).toBe(400);
      expectErrorShape(query.json(), 'BAD_REQUEST');
    });

    it('rate-limits per client identity (address, browser origin, token) with 429 and Retry-After', async () => {
      const limited = await buildServer(fakeContext(), { listen: '127.0.0.1:0', rateLimit: { perSecond: 1, burst: 3 }, allowedOrigins: [HIS], token: TOKEN });
      try {
        const codes: number[] = [];
        let last;
        for (let i = 0; i < 5; i++) {
          last = await limited.inject({ url: '/v1/health', remoteAddress: '127.0.0.1' });
          codes.push(last.statusCode);
        }
        expect(codes).toEqual([200, 200, 200, 429, 429]);
        expectErrorShape(last!.json(), 'RATE_LIMITED');
        expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        // Another client has its own bucket; so do the HIS page (its origin) and the HIS token from the same address.
        expect((await limited.inject({ url: '/v1/health', remoteAddress: '127.0.0.2' })).statusCode).toBe(200);
        expect((await limited.inject({ url: '/v1/health', remoteAddress: '127.0.0.1', headers: { origin: HIS } })).statusCode).toBe(200);
        expect((await limited.inject({ url: '/v1/health', remoteAddress: '127.0.0.1', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
        // A refused origin is refused before the limiter: 403, not 429, and it costs nobody's budget.
        for (let i = 0; i < 10; i++) expect((await limited.inject({ url: '/v1/health', remoteAddress: '127.0.0.3', headers: { origin: 'http://evil.example' } })).statusCode).toBe(403);
        expect((await limited.inject({ url: '/v1/health', remoteAddress: '127.0.0.3' })).statusCode).toBe(200);
      } finally {
        await limited.close();
      }
    });
  });

  describe('error shape and mapping', () => {
    it('maps a route YikaError by its kind (conflict → 409) and keeps details', async () => {
      const r = await app.inject({ url: '/v1/demo/absent' });
      expect(r.statusCode).toBe(409);
      expect(r.json()).toEqual({ error: { code: 'TEST_CARD_ABSENT', message: 'No card in slot 1.', messageZh: '测试：卡槽中没有卡', details: { slot: 1 } } });
    });

    it('hides the message of an unexpected error and keeps it out of the log unscrubbed', async () => {
      const r = await app.inject({ url: '/v1/demo/boom' });
      expect(r.statusCode).toBe(500);
      expectErrorShape(r.json(), 'INTERNAL');
      expect(r.body).not.toContain('secret');
      expect(ctx.logLines.join('\n')).not.toContain('110101199003074512');
    });

    it('answers unknown routes with 404 NOT_FOUND in the same shape', async () => {
      const r = await app.inject({ url: '/v1/nothing-here' });
      expect(r.statusCode).toBe(404);
      expectErrorShape(r.json(), 'NOT_FOUND');
    });

    it('declares every code it can produce in the catalogue', () => {
      const codes = new Set(allErrorCodes().map((c) => c.code));
      for (const c of ['BAD_REQUEST', 'NOT_FOUND', 'BODY_TOO_LARGE', 'RATE_LIMITED', 'ORIGIN_NOT_ALLOWED', 'HOST_NOT_ALLOWED', 'TOKEN_REQUIRED', 'TOKEN_INVALID', 'INTERNAL']) {
        expect(codes.has(c), c).toBe(true);
      }
    });
  });

  describe('OpenAPI, docs, health, metrics', () => {
    it('serves an OpenAPI 3.1 document where every route has request and response schemas', async () => {
      const doc = (await app.inject('/v1/openapi.json')).json();
      expect(doc.openapi).toBe('3.1.0');
      const ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, m]) => Object.entries(m).map(([method, op]) => ({ p, method, op })));
      expect(ops.map((o) => `${o.method} ${o.p}`)).toEqual(expect.arrayContaining(['get /v1/health', 'get /v1/demo/{id}', 'post /v1/demo/echo', 'get /metrics']));
      for (const { p, method, op } of ops) {
        const statuses = Object.keys(op.responses);
        expect(statuses.some((s) => s.startsWith('2')), `${method} ${p} success schema`).toBe(true);
        expect(statuses, `${method} ${p} error schema`).toEqual(expect.arrayContaining(['4XX', '5XX']));
        for (const name of p.match(/\{(\w+)\}/g) ?? []) {
          expect(op.parameters.some((x: any) => x.in === 'path' && `{${x.name}}` === name), `${p} ${name}`).toBe(true);
        }
        if (method === 'post' || method === 'put') expect(op.requestBody?.content['application/json'].schema, `${method} ${p} body`).toBeDefined();
      }
      // Every $ref points at a component that exists.
      const refs = JSON.stringify(doc).match(/"\$ref":"([^"]+)"/g) ?? [];
      for (const ref of refs) {
        const name = /#\/components\/schemas\/([^"/]+)/.exec(ref)?.[1];
        expect(name && doc.components.schemas[name], ref).toBeTruthy();
      }
    });

    it('serves a self-contained docs page listing routes and error codes', async () => {
      const r = await app.inject('/v1/docs');
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toMatch(/text\/html/);
      expect(r.body).toContain('/v1/demo/{id}');
      expect(r.body).toContain('ORIGIN_NOT_ALLOWED');
      expect(r.body).toContain('card.inserted');
      expect(r.body).not.toMatch(/<script|src="http|href="http/);
    });

    it('reports health with what is degraded', async () => {
      ctx.healthReport.status = 'degraded';
      ctx.healthReport.degraded.push({ component: 'pcsc', reason: 'pcscd is not running', reasonZh: 'PC/SC 读卡器服务不可用' });
      const r = await app.inject('/v1/health');
      expect(r.json()).toMatchObject({ status: 'degraded', degraded: [{ component: 'pcsc', reason: 'pcscd is not running', reasonZh: 'PC/SC 读卡器服务不可用' }] });
      ctx.healthReport.status = 'ok';
      ctx.healthReport.degraded.length = 0;
    });

    it('exposes Prometheus metrics with HTTP counters by route template and status', async () => {
      await app.inject('/v1/demo/abc');
      await app.inject('/v1/demo/absent');
      const text = (await app.inject('/metrics')).body;
      expect(text).toMatch(/^yika_http_requests_total\{method="GET",route="\/v1\/demo\/:id",status="200"\} \d+$/m);
      expect(text).toMatch(/^yika_http_requests_total\{method="GET",route="\/v1\/demo\/:id",status="409"\} \d+$/m);
      expect(text).toMatch(/^yika_http_errors_total\{code="TEST_CARD_ABSENT"\} \d+$/m);
      expect(text).toMatch(/^yika_http_request_duration_seconds_bucket\{method="GET",route="\/v1\/demo\/:id",le="\+Inf"\} \d+$/m);
      expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
      expect(text).not.toContain('/v1/demo/abc'); // raw URLs never become labels
    });
  });
});

describe('front-desk page', () => {
  it('is served at / with a strict CSP and only same-origin assets', async () => {
    const app = await buildServer(fakeContext(), { listen: '127.0.0.1:0' });
    try {
      const r = await app.inject({ url: '/', headers: { host: '127.0.0.1:7611' } });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toMatch(/text\/html/);
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain('connect-src \'self\' ws://127.0.0.1:7611');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(r.body).not.toMatch(/(src|href)="(https?:)?\/\//);
      for (const asset of ['/app.js', '/i18n.js', '/style.css']) {
        const a = await app.inject(asset);
        expect(a.statusCode, asset).toBe(200);
        expect(a.body, asset).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
      }
      const openapi = (await app.inject('/v1/openapi.json')).json();
      expect(openapi.paths['/']).toBeUndefined(); // the page is not part of the API
    } finally {
      await app.close();
    }
  });
});

describe('API config safety', () => {
  it('refuses to listen on a non-loopback address without a token', async () => {
    await expect(buildServer(fakeContext(), { listen: '0.0.0.0:7611' })).rejects.toMatchObject({ code: 'API_CONFIG_INVALID' });
    await expect(buildServer(fakeContext(), { listen: { host: '192.168.1.5', port: 7611 } })).rejects.toMatchObject({ code: 'API_CONFIG_INVALID' });
    const ok = await buildServer(fakeContext(), { listen: '0.0.0.0:0', token: TOKEN });
    await ok.close();
  });

  it('refuses wildcard origins', async () => {
    await expect(buildServer(fakeContext(), { allowedOrigins: ['*'] })).rejects.toMatchObject({ code: 'API_CONFIG_INVALID' });
  });
});

describe('WebSocket events', () => {
  let ctx: FakeContext;
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    ctx = fakeContext();
    app = await buildServer(ctx, { listen: '127.0.0.1:0', allowedOrigins: [HIS], rateLimit: false, websocket: { heartbeatMs: 200 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address() as { port: number };
    base = `ws://127.0.0.1:${addr.port}/v1/events`;
  });
  afterAll(async () => {
    await app.close();
  });

  function connect(query = '', headers: Record<string, string> = {}): Promise<{ ws: WebSocket; messages: any[]; next: (pred: (m: any) => boolean) => Promise<any> }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(base + query, { headers });
      const messages: any[] = [];
      const waiters: Array<{ pred: (m: any) => boolean; res: (m: any) => void }> = [];
      ws.on('message', (data) => {
        const m = JSON.parse(String(data));
        messages.push(m);
        for (const w of [...waiters]) if (w.pred(m)) { waiters.splice(waiters.indexOf(w), 1); w.res(m); }
      });
      const next = (pred: (m: any) => boolean) =>
        new Promise<any>((res, rej) => {
          const found = messages.find(pred);
          if (found) return res(found);
          waiters.push({ pred, res });
          setTimeout(() => rej(new Error('timeout waiting for a message')), 5000).unref();
        });
      ws.once('open', () => resolve({ ws, messages, next }));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode })));
      ws.once('error', reject);
    });
  }

  it('refuses a WebSocket upgrade from a disallowed origin (cross-site WebSocket hijacking)', async () => {
    await expect(connect('', { origin: 'http://evil.example' })).rejects.toMatchObject({ statusCode: 403 });
  });

  it('refuses an upgrade with a foreign Host', async () => {
    await expect(connect('', { host: 'attacker.example' })).rejects.toMatchObject({ statusCode: 403 });
  });

  it('accepts an allowed origin, says hello, and filters by type', async () => {
    const c = await connect('?types=card.inserted,qr.scanned', { origin: HIS });
    const hello = await c.next((m) => m.type === 'stream.hello');
    expect(hello).toMatchObject({ resume: null, position: ctx.events.position });
    ctx.events.publish({ type: 'reader.attached', readerId: 'sim-1', name: 'Sim' });
    ctx.events.publish({ type: 'card.inserted', readerId: 'sim-1', slot: 1 });
    const ev = await c.next((m) => m.type === 'card.inserted');
    expect(ev).toMatchObject({ readerId: 'sim-1', slot: 1, seq: expect.any(Number), at: expect.any(String) });
    expect(c.messages.some((m) => m.type === 'reader.attached')).toBe(false);
    c.ws.close();
  });

  it('refuses an unknown event type before upgrading', async () => {
    await expect(connect('?types=card.inserted,bogus')).rejects.toMatchObject({ statusCode: 400 });
  });

  it('resumes after a position: replays what was missed, in order, without duplicates', async () => {
    const first = ctx.events.publish({ type: 'card.inserted', readerId: 'sim-1', slot: 1 });
    ctx.events.publish({ type: 'card.removed', readerId: 'sim-1', slot: 1 });
    ctx.events.publish({ type: 'card.inserted', readerId: 'sim-1', slot: 1 });
    const c = await connect(`?after=${first.seq}`);
    const hello = await c.next((m) => m.type === 'stream.hello');
    expect(hello.resume).toEqual({ after: first.seq, complete: true });
    await c.next((m) => m.seq === first.seq + 2);
    ctx.events.publish({ type: 'card.removed', readerId: 'sim-1', slot: 1 });
    await c.next((m) => m.seq === first.seq + 3);
    const seqs = c.messages.filter((m) => typeof m.seq === 'number').map((m) => m.seq);
    expect(seqs).toEqual([first.seq + 1, first.seq + 2, first.seq + 3]);
    c.ws.close();
  });

  it('says when the resume is incomplete (events dropped from the history)', async () => {
    for (let i = 0; i < 60; i++) ctx.events.publish({ type: 'card.removed', readerId: 'sim-1', slot: 1 }); // history holds 50
    const c = await connect('?after=1');
    const hello = await c.next((m) => m.type === 'stream.hello');
    expect(hello.resume).toEqual({ after: 1, complete: false });
    expect(hello.oldest).toBeGreaterThan(2);
    c.ws.close();
  });

  it('sends heartbeats with the current position', async () => {
    const c = await connect();
    const hb = await c.next((m) => m.type === 'stream.heartbeat');
    expect(hb.position).toBe(ctx.events.position);
    c.ws.close();
  });
});

describe('WebSocket subscriber limit', () => {
  it('closes subscribers beyond websocket.maxSubscribers with 1013 (try again later)', async () => {
    const app = await buildServer(fakeContext(), { listen: '127.0.0.1:0', websocket: { maxSubscribers: 1 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/events`;
    const first = new WebSocket(url);
    try {
      await new Promise((res, rej) => {
        first.once('message', res);
        first.once('error', rej);
      });
      const second = new WebSocket(url);
      const closed = await new Promise<{ code: number; reason: string }>((res) => second.once('close', (code, reason) => res({ code, reason: String(reason) })));
      expect(closed).toEqual({ code: 1013, reason: 'TOO_MANY_SUBSCRIBERS' });
    } finally {
      first.terminate();
      await app.close();
    }
  });
});
