import { describe, expect, it } from 'vitest';
import { YikaApiError, YikaClient } from '../../../daemon/client/index.ts';

function fakeFetch(status: number, body: string, seen: Array<{ url: string; init: RequestInit }>): typeof fetch {
  return (async (url: string, init: RequestInit) => {
    seen.push({ url, init });
    return new Response(body, { status, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof fetch;
}

describe('YikaClient requests', () => {
  it('builds URLs with encoded ids and query parameters, and sends the token', async () => {
    const seen: Array<{ url: string; init: RequestInit }> = [];
    const c = new YikaClient({ baseUrl: 'http://127.0.0.1:7611/', token: 't'.repeat(16), fetch: fakeFetch(200, '{"readerId":"a b","items":[],"pipe":""}', seen) });
    await c.readHealthCard('a b', { files: ['DDF1/EF05', 'DDF1/EF06'] });
    await c.readItems('a b', [1, 11, 15], { format: 'json' });
    expect(seen[0].url).toBe('http://127.0.0.1:7611/v1/readers/a%20b/healthcard?files=DDF1%2FEF05%2CDDF1%2FEF06');
    expect(seen[1].url).toBe('http://127.0.0.1:7611/v1/readers/a%20b/healthcard/items?ids=1%2C11%2C15&format=json');
    expect((seen[0].init.headers as Record<string, string>).authorization).toBe(`Bearer ${'t'.repeat(16)}`);
  });

  it('returns text routes as strings (format=pipe)', async () => {
    const seen: Array<{ url: string; init: RequestInit }> = [];
    const c = new YikaClient({ fetch: fakeFetch(200, '王小明|1|19900307', seen) });
    expect(await c.readItems('sim-1', [11, 12, 14], { format: 'pipe' })).toBe('王小明|1|19900307');
  });

  it('posts JSON bodies', async () => {
    const seen: Array<{ url: string; init: RequestInit }> = [];
    const c = new YikaClient({ fetch: fakeFetch(200, '{"ok":true,"code":"VALID"}', seen) });
    await c.verifyQr('EHC1:123', { terminal: 'desk-3' });
    expect(seen[0].init.method).toBe('POST');
    expect(JSON.parse(String(seen[0].init.body))).toEqual({ text: 'EHC1:123', terminal: 'desk-3' });
    expect((seen[0].init.headers as Record<string, string>)['content-type']).toBe('application/json');
  });

  it('turns error bodies into YikaApiError, and non-JSON errors into BAD_RESPONSE', async () => {
    const c1 = new YikaClient({ fetch: fakeFetch(409, '{"error":{"code":"CARD_REMOVED","message":"gone","details":{"slot":1}}}', []) });
    const e1 = await c1.readers().catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(YikaApiError);
    expect(e1).toMatchObject({ code: 'CARD_REMOVED', status: 409, message: 'gone', details: { slot: 1 } });
    const c2 = new YikaClient({ fetch: fakeFetch(502, '<html>bad gateway</html>', []) });
    await expect(c2.health()).rejects.toMatchObject({ code: 'BAD_RESPONSE', status: 502 });
  });
});
