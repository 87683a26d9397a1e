import { describe, expect, it } from 'vitest';
import { allErrorCodes, defineErrorCodes, errorTextZh, type ErrorKind } from '../../../common/error-catalog.ts';
import { YikaError } from '../../../common/yika-error.ts';
import { STATUS_BY_KIND, statusForCode, toErrorResponse } from '../../../daemon/api/error-map.ts';
import '../../../daemon/api/api-errors.ts';

const KINDS: Record<ErrorKind, number> = {
  bad_request: 400, unauthorized: 401, forbidden: 403, not_found: 404, conflict: 409, too_large: 413,
  unprocessable: 422, rate_limited: 429, unavailable: 503, timeout: 504, internal: 500,
};

describe('error map', () => {
  it('maps every kind to its HTTP status', () => {
    expect(STATUS_BY_KIND).toEqual(KINDS);
    const codes = defineErrorCodes('test/error-map', Object.fromEntries(Object.keys(KINDS).map((k) => [`TEST_MAP_${k.toUpperCase()}`, { kind: k as ErrorKind, description: k, zh: `测试 ${k}` }])));
    for (const [kind, status] of Object.entries(KINDS)) {
      const code = codes[`TEST_MAP_${kind.toUpperCase()}` as keyof typeof codes] as string;
      expect(statusForCode(code)).toBe(status);
      expect(toErrorResponse(new YikaError(code, 'm')).status).toBe(status);
    }
  });

  it('gives every catalogued code a Chinese text, and every error body its messageZh', async () => {
    // Load every module that declares codes, as the daemon and the simulator do.
    await import('../../../daemon/app.ts');
    await import('../../../firmware-sim/index.ts');
    const all = allErrorCodes();
    expect(all.length).toBeGreaterThan(100);
    for (const c of all) {
      expect(c.zh, c.code).toMatch(/[\u4e00-\u9fff]/);
      expect(toErrorResponse(new YikaError(c.code, 'x')).body.error.messageZh).toBe(c.zh);
    }
    // An uncatalogued code (a bug) still has Chinese text: INTERNAL's.
    expect(toErrorResponse(new YikaError('NO_SUCH_CODE_ANYWHERE', 'x')).body.error.messageZh).toBe('服务内部错误，请查看日志。');
    expect(() => defineErrorCodes('test/no-zh', { TEST_NO_ZH: { kind: 'internal', description: 'x', zh: 'x' } })).toThrow(/Chinese/);
  });

  it('maps an uncatalogued code to 500 (a bug, never a silent 200)', () => {
    expect(statusForCode('NO_SUCH_CODE_ANYWHERE')).toBe(500);
  });

  it('keeps code, message and details of a YikaError', () => {
    expect(toErrorResponse(new YikaError('RATE_LIMITED', 'slow down', { retryAfterSeconds: 2 }))).toEqual({
      status: 429,
      body: { error: { code: 'RATE_LIMITED', message: 'slow down', messageZh: errorTextZh('RATE_LIMITED'), details: { retryAfterSeconds: 2 } } },
    });
  });

  it('turns fastify errors into stable codes', () => {
    expect(toErrorResponse({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413, message: 'x' }).body.error.code).toBe('BODY_TOO_LARGE');
    expect(toErrorResponse({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }).body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const v = toErrorResponse({ statusCode: 400, validation: [{ instancePath: '/text', message: 'must be string' }], validationContext: 'body' });
    expect(v).toEqual({ status: 400, body: { error: { code: 'BAD_REQUEST', message: 'Invalid request: body/text must be string', messageZh: '请求格式错误或参数不符合要求。', details: { issues: ['body/text must be string'] } } } });
    expect(toErrorResponse({ statusCode: 418, message: 'teapot' }).body.error.code).toBe('BAD_REQUEST');
  });

  it('never forwards the message of an unexpected error', () => {
    const r = toErrorResponse(new Error('name 张三 id 110101199003074512'));
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.body)).not.toMatch(/张三|110101/);
  });

  it('gives every catalogued API code a description', () => {
    for (const c of allErrorCodes()) expect(c.description.length, c.code).toBeGreaterThan(5);
  });
});
