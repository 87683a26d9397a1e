// Start-up known-answer self-test (SM3, SM4, SM2). SM3/SM4 failures make ok=false (the daemon must refuse
// to start); a native SM2 failure switches SM2 to the pure-JS implementation, which must itself pass.
import { bytesEqual, concatBytes, fromHex, toHex, utf8 } from './byte-encoding.ts';
import { SM2_P256 } from './sm2-curve.ts';
import { selectSm2Backend, sm2NativeFailure, SM2_ANNEX_VECTOR, SM2_ANNEX_ZA } from './sm2-backend.ts';
import { Sm2PrivateKey, sm2SignWithK } from './sm2-keys.ts';
import { encodeRawSignature } from './sm2-signature-encoding.ts';
import { sm3 } from './sm3.ts';
import { sm4DecryptEcb, sm4EncryptEcb } from './sm4.ts';
import { CryptoSelfTestError } from './crypto-errors.ts';

export interface SelfTestResult {
  ok: boolean;
  /** True when native (OpenSSL) SM2 passed and is in use. */
  nativeSm2: boolean;
  /** Names of the failed checks (no secret material). */
  failures: string[];
}

let lastResult: SelfTestResult | undefined;

export function runSelfTest(): SelfTestResult {
  const failures: string[] = [];
  const check = (name: string, fn: () => boolean): void => {
    try {
      if (!fn()) failures.push(name);
    } catch {
      failures.push(name);
    }
  };

  check('SM3 "abc"', () => toHex(sm3(utf8('abc'))) === '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  check('SM3 "abcd"x16', () => toHex(sm3(utf8('abcd'.repeat(16)))) === 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  const sm4Key = fromHex('0123456789abcdeffedcba9876543210');
  const sm4Cipher = fromHex('681edf34d206965e86b3e94f536e4246');
  check('SM4 encrypt', () => bytesEqual(sm4EncryptEcb(sm4Key, sm4Key), sm4Cipher));
  check('SM4 decrypt', () => bytesEqual(sm4DecryptEcb(sm4Key, sm4Cipher), sm4Key));

  // Pure-JS SM2 must reproduce the annex signature exactly; it is the fallback.
  const v = SM2_ANNEX_VECTOR;
  check('SM2 ZA (annex)', () => bytesEqual(Sm2PrivateKey.fromScalar(v.d).publicKey.za(), SM2_ANNEX_ZA));
  check('SM2 pure-JS sign (annex)', () => {
    const key = Sm2PrivateKey.fromScalar(v.d);
    return bytesEqual(sm2SignWithK(key, utf8(v.message), v.k), encodeRawSignature({ r: v.r, s: v.s }));
  });

  const backend = selectSm2Backend(true);
  const nativeFailure = sm2NativeFailure();
  if (nativeFailure) failures.push(`SM2 native disabled, using pure JS: ${nativeFailure}`);

  // Whatever backend was chosen must verify the annex signature and its own signature, and reject a forgery.
  check(`SM2 ${backend} verify (annex)`, () => {
    const key = Sm2PrivateKey.fromScalar(v.d);
    const m = utf8(v.message);
    const known = encodeRawSignature({ r: v.r, s: v.s });
    const own = key.sign(m);
    const forged = concatBytes(known.subarray(0, 63), Uint8Array.of(known[63] ^ 1));
    return key.publicKey.curve === SM2_P256 && key.publicKey.verify(m, known) && key.publicKey.verify(m, own) && !key.publicKey.verify(m, forged);
  });

  // The native fallback notice is informational; ok depends on everything else.
  const hardFailures = failures.filter((f) => !f.startsWith('SM2 native disabled'));
  lastResult = { ok: hardFailures.length === 0, nativeSm2: backend === 'native', failures };
  return lastResult;
}

/** The result of the last runSelfTest(), if any. */
export function lastSelfTestResult(): SelfTestResult | undefined {
  return lastResult;
}

/** runSelfTest(), throwing CRYPTO_SELF_TEST_FAILED (with the failed check names) unless ok. For start-up. */
export function requireSelfTest(): SelfTestResult {
  const result = runSelfTest();
  if (!result.ok) throw new CryptoSelfTestError('crypto self-test failed', { failures: result.failures });
  return result;
}
