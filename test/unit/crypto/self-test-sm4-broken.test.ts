// Simulates a broken SM4 (e.g. an OpenSSL build without it behaving oddly): the self-test must fail closed.
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../../crypto/sm4.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../crypto/sm4.ts')>();
  return { ...real, sm4EncryptEcb: (key: Uint8Array, data: Uint8Array) => real.sm4DecryptEcb(key, data) };
});

const { runSelfTest, requireSelfTest, CryptoSelfTestError } = await import('../../../crypto/index.ts');

describe('self-test with a broken SM4', () => {
  it('reports ok=false naming the SM4 check', () => {
    const result = runSelfTest();
    expect(result.ok).toBe(false);
    expect(result.failures).toContain('SM4 encrypt');
    expect(result.nativeSm2).toBe(true);
  });

  it('requireSelfTest throws CRYPTO_SELF_TEST_FAILED', () => {
    expect(() => requireSelfTest()).toThrow(CryptoSelfTestError);
    try {
      requireSelfTest();
    } catch (e) {
      expect((e as InstanceType<typeof CryptoSelfTestError>).code).toBe('CRYPTO_SELF_TEST_FAILED');
      expect((e as InstanceType<typeof CryptoSelfTestError>).details?.failures).toContain('SM4 encrypt');
    }
  });
});
