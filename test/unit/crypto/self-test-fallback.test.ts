// Simulates a Node/OpenSSL whose SM2 is not standard SM2 (here: one that ignores ZA, like the empty-ID
// one-shot API) and checks that the self-test detects it and moves SM2 to the pure-JS implementation.
import { createSign, createVerify } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../../crypto/sm2-native.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../crypto/sm2-native.ts')>();
  return {
    ...real,
    // a "native SM2" that hashes M without ZA
    nativeSign: (key: Parameters<typeof real.nativeSign>[0], _za: Uint8Array, m: Uint8Array) => createSign('sm3').update(m).sign(key),
    nativeVerify: (key: Parameters<typeof real.nativeVerify>[0], _za: Uint8Array, m: Uint8Array, sig: Uint8Array) => {
      try {
        return createVerify('sm3').update(m).verify(key, sig);
      } catch {
        return false;
      }
    },
  };
});

const { runSelfTest, sm2Backend, sm2NativeFailure, Sm2PrivateKey, utf8 } = await import('../../../crypto/index.ts');

describe('self-test with a non-standard native SM2', () => {
  it('the first SM2 use selects the backend lazily, before any runSelfTest()', () => {
    expect(sm2Backend()).toBe('js');
  });

  it('falls back to pure JS, stays ok, and names the reason without secrets', () => {
    const result = runSelfTest();
    expect(result.ok).toBe(true);
    expect(result.nativeSm2).toBe(false);
    expect(sm2Backend()).toBe('js');
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toMatch(/^SM2 native disabled, using pure JS: native SM2 rejects the annex signature/);
    expect(sm2NativeFailure()).toBe('native SM2 rejects the annex signature');
  });

  it('signatures made afterwards are standard SM2 (verify with ZA in pure JS)', () => {
    const key = Sm2PrivateKey.generate();
    const m = utf8('after fallback');
    const sig = key.sign(m);
    expect(key.publicKey.verify(m, sig)).toBe(true);
    expect(key.publicKey.verify(m, sig, { id: 'other' })).toBe(false);
    // the broken "native" verifier (no ZA) would not accept it: proves we did not use it
    expect(createVerify('sm3').update(m).verify(key.nativeKey(), key.sign(m, { format: 'der' }))).toBe(false);
  });
});
