import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import smCrypto from 'sm-crypto';
import {
  fromHex,
  padIso9797M2,
  sm4CbcMac,
  sm4Ctr,
  sm4DecryptCbc,
  sm4DecryptEcb,
  sm4EncryptCbc,
  sm4EncryptEcb,
  sm4ForgetKeys,
  toHex,
  unpadIso9797M2,
  CryptoPaddingError,
  CryptoLengthError,
  CryptoKeyError,
} from '../../../crypto/index.ts';

const KEY = fromHex('0123456789abcdeffedcba9876543210');

describe('SM4 (GB/T 32907 vectors)', () => {
  it('encrypts and decrypts the single-block example', () => {
    const c = sm4EncryptEcb(KEY, KEY);
    expect(toHex(c)).toBe('681edf34d206965e86b3e94f536e4246');
    expect(toHex(sm4DecryptEcb(KEY, c))).toBe(toHex(KEY));
  });

  it('reaches the 1,000,000-iteration value', { timeout: 120_000 }, () => {
    let block: Uint8Array = KEY;
    for (let i = 0; i < 1_000_000; i++) block = sm4EncryptEcb(KEY, block);
    expect(toHex(block)).toBe('595298c7c6fd271f0402f804c33d3f66');
  });

  it('ECB with cached contexts stays correct when keys alternate', () => {
    const k2 = fromHex('00112233445566778899aabbccddeeff');
    const data = randomBytes(64);
    const a1 = sm4EncryptEcb(KEY, data);
    const b1 = sm4EncryptEcb(k2, data);
    expect(toHex(sm4EncryptEcb(KEY, data))).toBe(toHex(a1));
    expect(toHex(sm4DecryptEcb(k2, b1))).toBe(toHex(data));
    expect(toHex(a1)).not.toBe(toHex(b1));
    sm4ForgetKeys();
    expect(toHex(sm4EncryptEcb(KEY, data))).toBe(toHex(a1));
  });

  it('a key buffer mutated in place is not served from the last-key cache', () => {
    const key = Uint8Array.from(KEY);
    const first = sm4EncryptEcb(key, KEY);
    key[0] ^= 0xff;
    const second = sm4EncryptEcb(key, KEY);
    expect(toHex(second)).not.toBe(toHex(first));
    expect(toHex(sm4DecryptEcb(key, second))).toBe(toHex(KEY));
  });
});

describe('SM4 modes', () => {
  const iv = fromHex('000102030405060708090a0b0c0d0e0f');

  it('CBC equals Node createCipheriv and sm-crypto, and round-trips', () => {
    const data = randomBytes(80);
    const c = sm4EncryptCbc(KEY, iv, data);
    const node = createCipheriv('sm4-cbc', KEY, iv).setAutoPadding(false);
    expect(toHex(c)).toBe(Buffer.concat([node.update(data), node.final()]).toString('hex'));
    const sm = smCrypto.sm4.encrypt(Array.from(data), Array.from(KEY), { mode: 'cbc', iv: Array.from(iv), padding: 'none', output: 'array' }) as number[];
    expect(toHex(c)).toBe(Buffer.from(sm).toString('hex'));
    expect(toHex(sm4DecryptCbc(KEY, iv, c))).toBe(toHex(data));
  });

  it('ECB equals sm-crypto', () => {
    const data = randomBytes(48);
    const sm = smCrypto.sm4.encrypt(Array.from(data), Array.from(KEY), { padding: 'none', output: 'array' }) as number[];
    expect(toHex(sm4EncryptEcb(KEY, data))).toBe(Buffer.from(sm).toString('hex'));
  });

  it('CTR equals Node, any length, self-inverse, counter carries across 64-bit boundary', () => {
    const ctrIv = fromHex('00000000000000 00ffffffffffffffff'.replace(' ', ''));
    for (const len of [0, 1, 15, 16, 17, 100]) {
      const data = randomBytes(len);
      const c = sm4Ctr(KEY, ctrIv, data);
      const node = createCipheriv('sm4-ctr', KEY, ctrIv);
      expect(toHex(c)).toBe(Buffer.concat([node.update(data), node.final()]).toString('hex'));
      expect(toHex(sm4Ctr(KEY, ctrIv, c))).toBe(toHex(data));
    }
    // keystream block 2 is E(K, iv + 1) with a carry out of the low 64 bits
    const ks = sm4Ctr(KEY, ctrIv, new Uint8Array(32));
    expect(toHex(ks.subarray(16))).toBe(toHex(sm4EncryptEcb(KEY, fromHex('00000000000000010000000000000000'))));
  });

  it('CTR equals a keystream built from sm-crypto ECB over big-endian counter blocks', () => {
    const ctrIv = fromHex('0123456789abcdef00000000fffffffe');
    const data = randomBytes(70);
    const counters: number[] = [];
    let counter = BigInt('0x' + toHex(ctrIv));
    for (let i = 0; i < 5; i++, counter = (counter + 1n) % (1n << 128n)) counters.push(...fromHex(counter.toString(16).padStart(32, '0')));
    const keystream = smCrypto.sm4.encrypt(counters, Array.from(KEY), { padding: 'none', output: 'array' }) as number[];
    const expected = Buffer.from(data.map((b, i) => b ^ keystream[i]));
    expect(toHex(sm4Ctr(KEY, ctrIv, data))).toBe(expected.toString('hex'));
  });

  it('rejects non-block data, wrong key and IV sizes with typed errors', () => {
    expect(() => sm4EncryptEcb(KEY, new Uint8Array(15))).toThrow(CryptoLengthError);
    expect(() => sm4DecryptCbc(KEY, iv, new Uint8Array(17))).toThrow(CryptoLengthError);
    expect(() => sm4EncryptCbc(KEY, new Uint8Array(8), new Uint8Array(16))).toThrow(CryptoLengthError);
    expect(() => sm4Ctr(new Uint8Array(15), iv, new Uint8Array(3))).toThrow(CryptoKeyError);
    expect(() => sm4EncryptEcb(new Uint8Array(32), new Uint8Array(16))).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_KEY' }));
  });
});

describe('ISO/IEC 9797-1 method 2 padding', () => {
  it('pads with 0x80 then zeros, a full block when already aligned', () => {
    expect(toHex(padIso9797M2(fromHex('0102')))).toBe('0102' + '80' + '00'.repeat(13));
    expect(padIso9797M2(new Uint8Array(16)).length).toBe(32);
    expect(toHex(padIso9797M2(fromHex('01'), 8))).toBe('0180000000000000');
    expect(toHex(padIso9797M2(new Uint8Array(0), 8))).toBe('8000000000000000');
  });

  it('round-trips', () => {
    for (let len = 0; len < 40; len++) {
      const data = randomBytes(len);
      expect(toHex(unpadIso9797M2(padIso9797M2(data)))).toBe(toHex(data));
    }
  });

  it('rejects bad padding with CRYPTO_BAD_PADDING', () => {
    expect(() => unpadIso9797M2(fromHex('01020304'))).toThrow(CryptoPaddingError);
    expect(() => unpadIso9797M2(new Uint8Array(16))).toThrow(CryptoPaddingError); // all zeros, no marker
    expect(() => unpadIso9797M2(new Uint8Array(0))).toThrow(CryptoPaddingError);
    expect(() => unpadIso9797M2(fromHex('0181'))).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_PADDING' }));
    // marker further back than one block is not padding
    expect(() => unpadIso9797M2(Uint8Array.of(0x80, ...new Uint8Array(16)))).toThrow(CryptoPaddingError);
  });
});

describe('SM4 CBC-MAC', () => {
  // Reference: chain ECB by hand over the padded data.
  function cbcMacReference(key: Uint8Array, data: Uint8Array, iv: Uint8Array): Buffer {
    let chain: Buffer = Buffer.from(iv);
    for (let off = 0; off < data.length; off += 16) {
      const x = Buffer.alloc(16);
      for (let i = 0; i < 16; i++) x[i] = chain[i] ^ data[off + i];
      const enc = createCipheriv('sm4-ecb', key, null).setAutoPadding(false);
      chain = Buffer.concat([enc.update(x), enc.final()]);
    }
    return chain;
  }

  it('equals hand-chained ECB over method-2 padded data, default 16 bytes, zero IV', () => {
    const data = fromHex('0084000008');
    const expected = cbcMacReference(KEY, padIso9797M2(data), new Uint8Array(16));
    expect(toHex(sm4CbcMac(KEY, data))).toBe(expected.toString('hex'));
  });

  it('truncates to length and uses the given IV', () => {
    const data = randomBytes(37);
    const iv = randomBytes(16);
    const full = cbcMacReference(KEY, padIso9797M2(data), iv);
    expect(toHex(sm4CbcMac(KEY, data, { iv, length: 4 }))).toBe(full.subarray(0, 4).toString('hex'));
  });

  it('pad:false requires block-multiple data and does not pad', () => {
    const data = randomBytes(32);
    expect(toHex(sm4CbcMac(KEY, data, { pad: false }))).toBe(cbcMacReference(KEY, data, new Uint8Array(16)).toString('hex'));
    expect(() => sm4CbcMac(KEY, randomBytes(31), { pad: false })).toThrow(CryptoLengthError);
    expect(() => sm4CbcMac(KEY, new Uint8Array(0), { pad: false })).toThrow(CryptoLengthError);
  });

  it('rejects MAC lengths outside 1..16', () => {
    expect(() => sm4CbcMac(KEY, randomBytes(3), { length: 0 })).toThrow(CryptoLengthError);
    expect(() => sm4CbcMac(KEY, randomBytes(3), { length: 17 })).toThrow(CryptoLengthError);
  });
});
