// The OpenAPI document of the whole daemon (createApp with every route module, no devices): every
// documented route has a success schema, the shared error schema, its path parameters and, for
// writes, a request body; every $ref resolves. This is what keeps "a HIS developer can integrate
// from the OpenAPI page alone" true as route owners add routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appWithoutDevices } from '../support/app-without-devices.ts';
import type { YikaApp } from '../../daemon/app.ts';

type Op = { parameters?: Array<{ in: string; name: string }>; requestBody?: unknown; responses: Record<string, unknown> };

describe('OpenAPI document of the whole daemon', () => {
  let app: YikaApp;
  let doc: { openapi: string; paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, unknown> } };
  beforeAll(async () => {
    app = await appWithoutDevices();
    doc = (await app.server.inject('/v1/openapi.json')).json();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('documents the reader, health-card and QR routes', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/health', '/v1/readers', '/v1/readers/{id}', '/v1/readers/{id}/healthcard', '/v1/qr/verify', '/v1/qr/stats']));
  });

  it('gives every route a success schema, the error schema, its path parameters and its body', () => {
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const where = `${method.toUpperCase()} ${path}`;
        const statuses = Object.keys(op.responses);
        expect(statuses.some((s) => s.startsWith('2')), `${where}: success response schema`).toBe(true);
        expect(statuses, `${where}: error responses`).toEqual(expect.arrayContaining(['4XX', '5XX']));
        for (const m of path.match(/\{(\w+)\}/g) ?? []) {
          expect(op.parameters?.some((p) => p.in === 'path' && `{${p.name}}` === m), `${where}: path parameter ${m}`).toBe(true);
        }
        if (method === 'post' || method === 'put') expect(op.requestBody, `${where}: request body schema`).toBeDefined();
      }
    }
  });

  it('declares every media type a route answers: text/plain for format=pipe|text|replay, text/event-stream for SSE', () => {
    const media = (path: string): string[] => Object.keys((doc.paths[path].get.responses['200'] as { content: Record<string, unknown> }).content).sort();
    expect(media('/v1/readers/{id}/healthcard/items')).toEqual(['application/json', 'text/plain']);
    const pipe = (doc.paths['/v1/readers/{id}/healthcard/items'].get.responses['200'] as { content: Record<string, { schema: { description?: string } }> }).content['text/plain'];
    expect(pipe.schema.description).toMatch(/charset=utf-8.*GBK.*GB18030/);
    expect(media('/v1/readers/{id}/trace')).toEqual(['application/json', 'text/plain']);
    expect(media('/v1/events')).toContain('text/event-stream');
  });

  it('resolves every $ref', () => {
    for (const [, ref] of JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)) {
      const name = /^#\/components\/schemas\/([^/]+)/.exec(ref)?.[1];
      expect(name && doc.components.schemas[name], ref).toBeTruthy();
    }
  });

  it('renders the docs page with every route', async () => {
    const html = (await app.server.inject('/v1/docs')).body;
    for (const path of Object.keys(doc.paths)) expect(html, path).toContain(path.replace(/&/g, '&amp;'));
  });
});
