// The verdict cache: bounded by count and bytes, entries expire, CLOCK eviction keeps used entries;
// and the verifier's use of it (negative verdicts briefly, positives until the code expires).
import { describe, expect, it } from 'vitest';
import { ResultCache } from '../../../qr/result-cache.ts';
import { NOW, code, keys, makeVerifier } from './qr-test-trust.ts';

describe('ResultCache', () => {
  it('expires entries at their time', () => {
    const c = new ResultCache<string>(10, 1000);
    c.set('a', 'A', 100, 1);
    expect(c.get('a', 99)).toBe('A');
    expect(c.get('a', 100)).toBeUndefined();
    expect(c.stats()).toMatchObject({ hits: 1, misses: 1, entries: 0, bytes: 0 });
  });

  it('is bounded by count: evicts unused entries first (second chance for used ones)', () => {
    const c = new ResultCache<number>(3, 1e9);
    c.set('a', 1, 1e12, 1);
    c.set('b', 2, 1e12, 1);
    c.set('c', 3, 1e12, 1);
    c.get('a', 0); // a used: survives the next eviction
    c.set('d', 4, 1e12, 1);
    expect(c.get('b', 0)).toBeUndefined();
    expect([c.get('a', 0), c.get('c', 0), c.get('d', 0)]).toEqual([1, 3, 4]);
    expect(c.stats()).toMatchObject({ entries: 3, evictions: 1 });
  });

  it('is bounded by bytes, and refuses an entry larger than the whole budget', () => {
    const c = new ResultCache<number>(100, 100);
    for (let i = 0; i < 10; i++) c.set(`k${i}`, i, 1e12, 30);
    expect(c.stats().bytes).toBeLessThanOrEqual(100);
    expect(c.stats().entries).toBe(3);
    c.set('huge', 1, 1e12, 101);
    expect(c.get('huge', 0)).toBeUndefined();
  });

  it('replacing a key does not leak bytes', () => {
    const c = new ResultCache<number>(10, 1000);
    for (let i = 0; i < 50; i++) c.set('same', i, 1e12, 10);
    expect(c.stats()).toMatchObject({ entries: 1, bytes: 10 });
  });
});

describe('Verifier cache use', () => {
  it('caches positives until the code expires and negatives for a few seconds', async () => {
    let now = NOW * 1000;
    const v = await makeVerifier({ nowMs: () => now, cache: { negativeTtlMs: 5000 } });
    const good = code({ type: 'static', ttl: 3600, iat: NOW });
    const forged = code({ key: keys.unknown, kid: (await import('./qr-test-trust.ts')).keyIdOf(keys.active.publicKey.toBytes()) });
    expect((await v.verify(good)).cached).toBe(false);
    expect((await v.verify(good)).cached).toBe(true);
    expect((await v.verify(forged)).code).toBe('BAD_SIGNATURE');
    expect((await v.verify(forged)).cached).toBe(true);
    now += 6000;
    expect((await v.verify(forged)).cached).toBe(false); // negative entry gone
    expect((await v.verify(good)).cached).toBe(true);
    now = (NOW + 3600 + 301) * 1000;
    const r = await v.verify(good);
    expect([r.code, r.cached]).toEqual(['EXPIRED', false]);
  });

  it('cached and uncached results are identical apart from `cached`', async () => {
    const v = await makeVerifier();
    const t = code({ type: 'static', ttl: 3600 });
    const a = await v.verify(t);
    const b = await v.verify(t);
    expect({ ...b, cached: false }).toEqual(a);
  });
});
