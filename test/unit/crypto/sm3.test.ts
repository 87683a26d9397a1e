import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import smCrypto from 'sm-crypto';
import { hmacSm3, Sm3, sm3, sm3Kdf, toHex, fromHex, utf8, CryptoError } from '../../../crypto/index.ts';

describe('SM3 (GB/T 32905 vectors)', () => {
  it('hashes "abc"', () => {
    expect(toHex(sm3(utf8('abc')))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('hashes "abcd" x 16', () => {
    expect(toHex(sm3(utf8('abcd'.repeat(16))))).toBe('debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  });

  it('incremental Sm3 equals one-shot across block boundaries', () => {
    const data = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    const h = new Sm3();
    for (let i = 0; i < data.length; i += 13) h.update(data.subarray(i, i + 13));
    expect(toHex(h.digest())).toBe(toHex(sm3(data)));
  });

  it('Sm3 refuses use after digest with a typed error', () => {
    const h = new Sm3().update(utf8('abc'));
    h.digest();
    expect(() => h.update(utf8('x'))).toThrow(CryptoError);
    expect(() => h.digest()).toThrow(CryptoError);
  });

  it('agrees with sm-crypto on random lengths', () => {
    for (const len of [0, 1, 55, 56, 63, 64, 65, 119, 1000]) {
      const data = new Uint8Array(len).map((_, i) => (i * 31 + len) & 0xff);
      expect(toHex(sm3(data))).toBe(smCrypto.sm3(data));
    }
  });
});

describe('HMAC-SM3', () => {
  it('matches OpenSSL createHmac("sm3") for short, block-sized and long keys', () => {
    const data = utf8('The quick brown fox jumps over the lazy dog');
    for (const keyLen of [0, 1, 16, 32, 63, 64, 65, 100]) {
      const key = new Uint8Array(keyLen).map((_, i) => (i * 13 + 1) & 0xff);
      expect(toHex(hmacSm3(key, data))).toBe(createHmac('sm3', key).update(data).digest('hex'));
    }
  });

  it('matches sm-crypto HMAC', () => {
    const key = fromHex('000102030405060708090a0b0c0d0e0f');
    const data = utf8('abc');
    expect(toHex(hmacSm3(key, data))).toBe(smCrypto.sm3(data, { key: Array.from(key) }));
  });
});

describe('SM3 KDF (GB/T 32918)', () => {
  // Independent construction of the definition: Hash(Z || ct) with ct a 32-bit big-endian counter from 1.
  function kdfReference(z: Uint8Array, length: number): string {
    let out = '';
    for (let ct = 1; out.length < length * 2; ct++) {
      const c = Buffer.alloc(4);
      c.writeUInt32BE(ct);
      out += createHash('sm3').update(z).update(c).digest('hex');
    }
    return out.slice(0, length * 2);
  }

  it('follows the definition for lengths around the 32-byte boundary', () => {
    const z = utf8('shared secret Z');
    for (const len of [0, 1, 16, 31, 32, 33, 64, 100]) {
      expect(toHex(sm3Kdf(z, len))).toBe(kdfReference(z, len));
    }
  });

  it('first block is SM3(Z || 00000001)', () => {
    const z = fromHex('abcdef');
    expect(toHex(sm3Kdf(z, 32))).toBe(toHex(sm3(fromHex('abcdef00000001'))));
  });

  it('rejects invalid lengths with a typed error', () => {
    expect(() => sm3Kdf(new Uint8Array(1), -1)).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_LENGTH' }));
    expect(() => sm3Kdf(new Uint8Array(1), 1.5)).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_LENGTH' }));
  });
});
