// Bad input must give a typed CryptoError (never a TypeError, RangeError or a crash): seeded mutation
// of valid encodings through every importer and decoder, plus wrong JS types at the API boundary.
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  Sm2PrivateKey,
  Sm2PublicKey,
  fromHex,
  hmacSm3,
  padIso9797M2,
  sm2SignatureDerToRaw,
  sm2SignatureRawToDer,
  sm3,
  sm3Kdf,
  sm4CbcMac,
  sm4Ctr,
  sm4EncryptCbc,
  sm4EncryptEcb,
  unpadIso9797M2,
  Sm3,
} from '../../../crypto/index.ts';

// xorshift32: reproducible mutations
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function mutations(valid: Uint8Array, count: number, seed: number): Uint8Array[] {
  const rand = rng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const m = Uint8Array.from(valid);
    const kind = Math.floor(rand() * 4);
    if (kind === 0) {
      m[Math.floor(rand() * m.length)] ^= 1 << Math.floor(rand() * 8);
      out.push(m);
    } else if (kind === 1) {
      out.push(m.subarray(0, Math.floor(rand() * m.length)));
    } else if (kind === 2) {
      m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
      out.push(Uint8Array.of(...m, Math.floor(rand() * 256)));
    } else {
      out.push(Uint8Array.from({ length: Math.floor(rand() * 80) }, () => Math.floor(rand() * 256)));
    }
  }
  return out;
}

function expectTypedOrOk(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(CryptoError);
  }
}

describe('mutated encodings give typed errors', () => {
  const key = Sm2PrivateKey.fromHex('3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8');
  const sigDer = sm2SignatureRawToDer(fromHex('f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa'));

  it('PKCS#8, SEC1, SPKI, raw points, DER signatures', () => {
    for (const m of mutations(key.toPkcs8Der(), 400, 1)) expectTypedOrOk(() => Sm2PrivateKey.fromPkcs8Der(m));
    for (const m of mutations(key.toSec1Der(), 400, 2)) expectTypedOrOk(() => Sm2PrivateKey.fromSec1Der(m));
    for (const m of mutations(key.publicKey.toSpkiDer(), 400, 3)) expectTypedOrOk(() => Sm2PublicKey.fromSpkiDer(m));
    for (const m of mutations(key.publicKey.toBytes(), 300, 4)) expectTypedOrOk(() => Sm2PublicKey.fromBytes(m));
    for (const m of mutations(key.publicKey.toBytes(true), 300, 5)) expectTypedOrOk(() => Sm2PublicKey.fromBytes(m));
    for (const m of mutations(sigDer, 400, 6)) {
      expectTypedOrOk(() => sm2SignatureDerToRaw(m));
      expect(typeof key.publicKey.verify(new Uint8Array(1), m, { format: 'der' })).toBe('boolean');
    }
  });

  it('padding removal', () => {
    for (const m of mutations(padIso9797M2(fromHex('0102030405')), 300, 7)) expectTypedOrOk(() => unpadIso9797M2(m));
  });
});

describe('wrong JS types at the API boundary give typed errors', () => {
  const notBytes: unknown[] = [undefined, null, 'abc', 42, [1, 2, 3], {}];
  const k16 = new Uint8Array(16);

  it('SM3, HMAC, KDF, SM4, padding', () => {
    for (const bad of notBytes) {
      const b = bad as Uint8Array;
      for (const fn of [
        () => sm3(b),
        () => new Sm3().update(b),
        () => hmacSm3(b, k16),
        () => hmacSm3(k16, b),
        () => sm3Kdf(b, 16),
        () => sm4EncryptEcb(b, k16),
        () => sm4EncryptEcb(k16, b),
        () => sm4EncryptCbc(k16, b, k16),
        () => sm4Ctr(k16, k16, b),
        () => sm4CbcMac(k16, b),
        () => padIso9797M2(b),
        () => unpadIso9797M2(b),
      ]) {
        expect(fn).toThrow(CryptoError);
      }
    }
  });

  it('SM2 keys and signatures', () => {
    const key = Sm2PrivateKey.generate();
    for (const bad of notBytes) {
      const b = bad as Uint8Array;
      expect(() => Sm2PublicKey.fromBytes(b)).toThrow(CryptoError);
      expect(() => Sm2PrivateKey.fromBytes(b)).toThrow(CryptoError);
      expect(() => Sm2PublicKey.fromSpkiDer(b)).toThrow(CryptoError);
      expect(() => Sm2PrivateKey.fromPkcs8Der(b)).toThrow(CryptoError);
      expect(() => Sm2PublicKey.fromHex(bad as string)).toThrow(CryptoError);
      expect(() => Sm2PrivateKey.fromPem(bad as string)).toThrow(CryptoError);
      expect(() => sm2SignatureDerToRaw(b)).toThrow(CryptoError);
      expect(() => sm2SignatureRawToDer(b)).toThrow(CryptoError);
      expect(() => key.sign(b)).toThrow(CryptoError);
      expect(() => key.publicKey.verify(b, new Uint8Array(64))).toThrow(CryptoError);
      expect(key.publicKey.verify(new Uint8Array(1), b)).toBe(false);
      if (bad !== undefined && typeof bad !== 'string') expect(() => key.sign(new Uint8Array(1), { id: bad as string })).toThrow(CryptoError);
    }
  });
});
