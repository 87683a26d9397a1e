import { describe, expect, it } from 'vitest';
import { isLoopbackAddress, normaliseOrigin, parseListen, resolveApiConfig } from '../../../daemon/api/api-config.ts';
import { bearerMatches, HostPolicy, hostName, RateLimiter } from '../../../daemon/api/security.ts';

describe('api config', () => {
  it('defaults to loopback, no origins, a body limit and a rate limit', () => {
    const c = resolveApiConfig();
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 7611 });
    expect(c.allowedOrigins).toEqual([]);
    expect(c.rateLimit.perSecond).toBeGreaterThan(0);
  });
  it('parses listen strings', () => {
    expect(parseListen('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseListen('[::1]:7611')).toEqual({ host: '::1', port: 7611 });
    expect(parseListen(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(() => parseListen('nope')).toThrow(/HOST:PORT/);
    expect(() => parseListen('1.2.3.4:70000')).toThrow(/out of range/);
  });
  it('normalises origins and refuses non-http ones', () => {
    expect(normaliseOrigin('HTTP://His.Example:80/')).toBe('http://his.example');
    expect(normaliseOrigin('null')).toBeUndefined();
    expect(normaliseOrigin('file:///c:/his.html')).toBeUndefined();
    expect(() => resolveApiConfig({ allowedOrigins: ['his.example'] })).toThrow(/allowedOrigins\[0\]/);
  });
  it('requires a long enough token', () => {
    expect(() => resolveApiConfig({ token: 'short' })).toThrow(/token/);
  });
  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', 'localhost', '[::1]']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0', '::', '128.0.0.1', undefined]) expect(isLoopbackAddress(a), String(a)).toBe(false);
  });
});

describe('security pieces', () => {
  it('extracts host names from Host headers', () => {
    expect(hostName('LocalHost:7611')).toBe('localhost');
    expect(hostName('[::1]:7611')).toBe('::1');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
    expect(hostName(undefined)).toBeUndefined();
    expect(hostName('localhost:7611;script-src *')).toBeUndefined();
    expect(hostName('localhost:port')).toBeUndefined();
    expect(hostName('::1')).toBe('::1');
  });
  it('allows configured host names only', () => {
    const p = new HostPolicy(resolveApiConfig({ allowedHosts: ['desk-3.clinic.lan'] }));
    expect(p.allows('desk-3.clinic.lan:7611')).toBe(true);
    expect(p.allows('desk-4.clinic.lan:7611')).toBe(false);
    expect(p.allows('')).toBe(false);
  });
  it('compares bearer tokens', () => {
    expect(bearerMatches(undefined, 'a'.repeat(16))).toBe('missing');
    expect(bearerMatches(`Bearer ${'a'.repeat(16)}`, 'a'.repeat(16))).toBe('ok');
    expect(bearerMatches(`bearer ${'a'.repeat(16)}`, 'a'.repeat(16))).toBe('ok');
    expect(bearerMatches(`Bearer ${'a'.repeat(17)}`, 'a'.repeat(16))).toBe('invalid');
  });
  it('refills a token bucket at the configured rate', () => {
    let t = 0;
    const rl = new RateLimiter(2, 2, 10, () => t);
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([0, 0, 1]);
    t += 500; // one token back
    expect(rl.take('a')).toBe(0);
    expect(rl.take('a')).toBe(1);
    expect(rl.take('b')).toBe(0);
  });
  it('keeps its client table bounded', () => {
    let t = 0;
    const rl = new RateLimiter(1, 5, 3, () => t);
    for (const c of ['a', 'b', 'c', 'd', 'e']) rl.take(c);
    t += 10_000;
    expect((rl as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(3);
  });
});
