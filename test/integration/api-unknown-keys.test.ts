// Unknown keys in a request are a 400, never silently dropped (issue 14: `PUT …/healthcard/items` with
// the items at the top level answered 200 with nothing written, because fastify's default ajv removes
// additional properties). Two halves: every request schema of the API is closed (checked over the
// routes as registered, so a new route is covered), and the daemon enforces it: each write route with
// one unknown key answers 400 naming the key and changes nothing, and the same body without it passes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AUTH, testTokens } from '../support/api-token.ts';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import { until } from '../support/until.ts';

let app: YikaApp;
let sim: Simulator;
let url: string;

async function send(method: string, path: string, payload?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, payload === undefined ? { method } : { method, headers: { 'content-type': 'application/json', ...TEST_AUTH }, body: JSON.stringify(payload) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  sim = createSimulator({ seed: 12 });
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), {});
  config.api.tokens = testTokens(); // writes and power need a token
  app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  url = await app.listen();
  await until('sim-1 card present', () => app.registry.find('sim-1')?.toJSON().slots[0].card === 'present');
}, 30_000);

afterAll(async () => {
  await app?.close();
  await sim?.close();
});

/** Paths of object schemas inside `schema` that accept keys they do not list. */
function openObjects(schema: unknown, path: string): string[] {
  if (!schema || typeof schema !== 'object') return [];
  const s = schema as Record<string, unknown>;
  const out: string[] = [];
  const isObject = s.type === 'object' || s.properties !== undefined || s.patternProperties !== undefined;
  if (isObject && s.additionalProperties !== false && typeof s.additionalProperties !== 'object') out.push(path || '/');
  for (const [k, v] of Object.entries(s)) {
    if (k === 'properties' || k === 'patternProperties') for (const [p, sub] of Object.entries(v as object)) out.push(...openObjects(sub, `${path}/${p}`));
    else if (k === 'items' || k === 'additionalProperties') out.push(...openObjects(v, `${path}/${k}`));
  }
  return out;
}

describe('unknown keys in requests', () => {
  it('every body and query schema of the API is closed (additionalProperties: false all the way down)', () => {
    const open: string[] = [];
    let bodies = 0;
    for (const r of app.server.yikaApi.routes.visible()) {
      for (const part of ['body', 'querystring'] as const) {
        const schema = r.schema[part];
        if (!schema) continue;
        if (part === 'body') bodies++;
        for (const p of openObjects(schema, '')) open.push(`${r.method} ${r.url} ${part}${p}`);
      }
    }
    expect(bodies).toBeGreaterThanOrEqual(7);
    expect(open).toEqual([]);
  });

  it('PUT healthcard/items with the items at the top level: 400 naming the key, nothing written', async () => {
    const before = await send('GET', '/v1/readers/sim-1/healthcard/items?ids=11');
    expect(before.status).toBe(200);
    const r = await send('PUT', '/v1/readers/sim-1/healthcard/items', { '11': '王小明' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('BAD_REQUEST');
    expect(r.body.error.message).toContain('unknown key "11"');
    expect(r.body.error.message).not.toContain('王小明');
    const after = await send('GET', '/v1/readers/sim-1/healthcard/items?ids=11');
    expect(after.body.items[0].value).toBe(before.body.items[0].value);
  });

  it.each([
    ['PUT', '/v1/readers/sim-1/healthcard/items', 'itemz', { items: { '11': '王小明' } }, 200],
    ['PUT', '/v1/readers/sim-1/healthcard/items', 'outpatient/0', { outpatient: [{ slot: 2, values: { '213': '测试' } }] }, 200],
    ['POST', '/v1/readers/sim-1/slots/1/power', 'force', { action: 'on' }, 200],
    ['POST', '/v1/readers/sim-1/slots/1/apdu', 'timeout', { apdu: '0084000008' }, 200],
    ['POST', '/v1/readers/sim-1/slots/1/batch', 'commands/0', { commands: [{ apdu: '0084000008' }] }, 200],
    ['PUT', '/v1/readers/sim-1/trace', 'enable', { enabled: false }, 200],
    ['POST', '/v1/qr/verify', 'terminalId', { text: 'EHC1:nothing' }, 200],
  ] as const)('%s %s: an unknown key (in %s) is 400; without it the request passes', async (method, path, where, body, okStatus) => {
    const withUnknown = structuredClone(body) as Record<string, any>;
    const [head, index] = where.split('/');
    if (index === undefined) withUnknown[head] = 1;
    else if (head === 'outpatient') withUnknown.outpatient[Number(index)].signatur = 'AB';
    else withUnknown.commands[Number(index)].expected = [];
    const bad = await send(method, path, withUnknown);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'BAD_REQUEST']);
    expect(bad.body.error.message).toMatch(/unknown key "(itemz|signatur|force|timeout|expected|enable|terminalId)"/);
    const good = await send(method, path, body);
    expect(good.status).toBe(okStatus);
  });

  it('an unknown query parameter is 400 too', async () => {
    const r = await send('GET', '/v1/readers/sim-1/healthcard/items?ids=11&fromat=pipe');
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('unknown key "fromat"');
  });
});

describe('unknown query parameters', () => {
  it('every documented route has a closed query schema (a route that takes none gets an empty one)', () => {
    const missing = app.server.yikaApi.routes
      .visible()
      .filter((r) => !r.schema.querystring)
      .map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
  });

  it.each([
    ['/v1/readers/sim-1/healthcard?file=DDF1/EF06', 'file', '/v1/readers/sim-1/healthcard?files=DDF1/EF05'],
    ['/v1/readers/sim-1/healthcard/items?ids=11&fromat=pipe', 'fromat', '/v1/readers/sim-1/healthcard/items?ids=11&format=pipe'],
    ['/v1/readers/sim-1/trace?fromat=text', 'fromat', '/v1/readers/sim-1/trace?format=text'],
    ['/v1/readers?all=1', 'all', '/v1/readers'],
    ['/v1/readers/sim-1?verbose=1', 'verbose', '/v1/readers/sim-1'],
    ['/v1/health?x=1', 'x', '/v1/health'],
    ['/v1/errors?lang=zh', 'lang', '/v1/errors'],
    ['/v1/qr/stats?reset=1', 'reset', '/v1/qr/stats'],
    ['/v1/qr/trust?x=1', 'x', '/v1/qr/trust'],
    ['/v1/writes/interrupted?all=1', 'all', '/v1/writes/interrupted'],
  ])('GET %s: 400 naming "%s"; the right spelling passes', async (typo, key, right) => {
    const bad = await send('GET', typo);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'BAD_REQUEST']);
    expect(bad.body.error.message).toContain(`unknown key "${key}"`);
    const res = await fetch(url + right);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});
