import { createSign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SM2_P256,
  SM2_TEST_CURVE,
  Sm2PrivateKey,
  Sm2PublicKey,
  bigIntToBytes,
  concatBytes,
  fromHex,
  setSm2Backend,
  sm2NativeFailure,
  sm2Backend,
  sm2SignWithK,
  sm2SignatureDerToRaw,
  sm2SignatureRawToDer,
  sm3,
  toHex,
  utf8,
  DEFAULT_SM2_ID,
  CryptoSignatureEncodingError,
  CryptoKeyError,
} from '../../../crypto/index.ts';
import { decodeRawSignature, encodeDerSignature } from '../../../crypto/sm2-signature-encoding.ts';

// GB/T 32918.5 (GM/T 0003.5) annex example, recommended curve, default ID.
const P256 = {
  d: '3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8',
  px: '09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020',
  py: 'ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13',
  za: 'b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3',
  e: 'f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640',
  k: 0x59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21n,
  r: 'f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3',
  s: 'b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa',
};
// GB/T 32918.2 annex example on the test curve, ID ALICE123@YAHOO.COM.
const TEST = {
  id: 'ALICE123@YAHOO.COM',
  d: '128b2fa8bd433c6c068c8d803dff79792a519a55171b1b650c23661d15897263',
  za: 'f4a38489e32b45b6f876e3ac2168ca392362dc8f23459c1d1146fc3dbfb7bc9a',
  k: 0x6cb28d99385c175c94f94e934817663fc176d925dd72b727260dbaae1fb2f96fn,
  r: '40f1ec59f793d9f49e09dcef49130d4194f79fb1eed2caa55bacdb49c4e755d1',
  s: '6fc6dac32c5d5cf10c77dfb20f7c2eb667a457872fb09ec56327a67ec7deebe7',
};
const M = utf8('message digest');
const n = SM2_P256.n;
const rawSig = (r: bigint, s: bigint) => concatBytes(bigIntToBytes(r, 32), bigIntToBytes(s, 32));

describe('SM2 annex vectors', () => {
  const key = Sm2PrivateKey.fromHex(P256.d);

  it('derives the annex public key and ZA', () => {
    expect(key.publicKey.toHex()).toBe('04' + P256.px + P256.py);
    expect(toHex(key.publicKey.za())).toBe(P256.za);
    expect(toHex(key.publicKey.za(DEFAULT_SM2_ID))).toBe(P256.za);
    expect(toHex(sm3(concatBytes(key.publicKey.za(), M)))).toBe(P256.e);
  });

  it('pure-JS signing with the annex k gives exactly r, s (raw and DER)', () => {
    expect(toHex(sm2SignWithK(key, M, P256.k))).toBe(P256.r + P256.s);
    const der = sm2SignWithK(key, M, P256.k, { format: 'der' });
    expect(toHex(sm2SignatureDerToRaw(der))).toBe(P256.r + P256.s);
  });

  it('native SM2 passes its known-answer check here and verifies the annex signature', () => {
    expect(sm2NativeFailure()).toBeUndefined();
    expect(sm2Backend()).toBe('native');
    const sig = fromHex(P256.r + P256.s);
    expect(key.publicKey.verify(M, sig)).toBe(true);
    expect(key.publicKey.verify(M, sm2SignatureRawToDer(sig), { format: 'der' })).toBe(true);
  });

  it('test curve, ID ALICE123@YAHOO.COM: ZA and r, s', () => {
    const alice = Sm2PrivateKey.fromHex(TEST.d, SM2_TEST_CURVE);
    expect(toHex(alice.publicKey.za(TEST.id))).toBe(TEST.za);
    expect(toHex(sm2SignWithK(alice, M, TEST.k, { id: TEST.id }))).toBe(TEST.r + TEST.s);
    expect(alice.publicKey.verify(M, fromHex(TEST.r + TEST.s), { id: TEST.id })).toBe(true);
    expect(alice.publicKey.verify(M, fromHex(TEST.r + TEST.s))).toBe(false); // default ID
    // IDs given as bytes are the same as the UTF-8 string
    expect(toHex(alice.publicKey.za(utf8(TEST.id)))).toBe(TEST.za);
  });

  it('signing on the test curve uses pure JS and verifies', () => {
    const k = Sm2PrivateKey.generate(SM2_TEST_CURVE);
    const sig = k.sign(M, { id: 'x' });
    expect(k.publicKey.verify(M, sig, { id: 'x' })).toBe(true);
    expect(k.publicKey.verify(M, sig)).toBe(false);
  });
});

for (const backend of ['native', 'js'] as const) {
  describe(`SM2 sign/verify and negative cases (${backend} backend)`, () => {
    let restore: 'native' | 'js' = 'native';
    beforeAll(() => {
      restore = sm2Backend();
      setSm2Backend(backend);
    });
    afterAll(() => setSm2Backend(restore));
    const key = Sm2PrivateKey.fromHex(P256.d);
    const pub = key.publicKey;
    const r = BigInt('0x' + P256.r);
    const s = BigInt('0x' + P256.s);

    it('runs on the chosen backend', () => {
      expect(sm2Backend()).toBe(backend);
    });

    it('sign then verify, raw and DER, default and custom ID', () => {
      for (const opts of [{}, { id: 'ALICE123@YAHOO.COM' }, { id: new Uint8Array(0) }]) {
        const raw = key.sign(M, opts);
        expect(raw.length).toBe(64);
        expect(pub.verify(M, raw, opts)).toBe(true);
        const der = key.sign(M, { ...opts, format: 'der' });
        expect(der[0]).toBe(0x30);
        expect(pub.verify(M, der, { ...opts, format: 'der' })).toBe(true);
        expect(pub.verify(M, der, opts)).toBe(false); // DER given where raw expected
      }
    });

    it('rejects a flipped bit in r or in s', () => {
      for (let bit = 0; bit < 512; bit += 37) {
        const sig = fromHex(P256.r + P256.s);
        sig[bit >> 3] ^= 1 << (bit & 7);
        expect(pub.verify(M, sig)).toBe(false);
      }
    });

    it('rejects r = 0, s = 0, r = n, s = n and r + s ≡ 0 (mod n)', () => {
      expect(pub.verify(M, rawSig(0n, s))).toBe(false);
      expect(pub.verify(M, rawSig(r, 0n))).toBe(false);
      expect(pub.verify(M, rawSig(n, s))).toBe(false);
      expect(pub.verify(M, rawSig(r, n))).toBe(false);
      expect(pub.verify(M, rawSig(r, n - r))).toBe(false); // r + s = n
      expect(pub.verify(M, rawSig(n - 1n, 1n))).toBe(false); // r + s = n at the edges
      // the same values as DER are rejected too (no range check bypass through the DER path)
      expect(pub.verify(M, sm2SignatureRawToDer(rawSig(r, n - r)), { format: 'der' })).toBe(false);
      expect(pub.verify(M, sm2SignatureRawToDer(rawSig(n, s)), { format: 'der' })).toBe(false);
      // DER can carry r + n or s + n (congruent, > 32 bytes): out of range, rejected
      expect(pub.verify(M, encodeDerSignature({ r: r + n, s }), { format: 'der' })).toBe(false);
      expect(pub.verify(M, encodeDerSignature({ r, s: s + n }), { format: 'der' })).toBe(false);
      expect(pub.verify(M, encodeDerSignature({ r, s }), { format: 'der' })).toBe(true);
    });

    it('rejects another ID and another message', () => {
      const sig = fromHex(P256.r + P256.s);
      expect(pub.verify(M, sig, { id: '1234567812345679' })).toBe(false);
      expect(pub.verify(M, sig, { id: '' })).toBe(false);
      expect(pub.verify(utf8('message digesT'), sig)).toBe(false);
    });

    it('rejects a signature made without ZA (SM3(M) only)', () => {
      // OpenSSL's plain createSign('sm3').update(M) on an SM2-typed key hashes M alone (the known trap).
      const noZa = createSign('sm3').update(M).sign(key.nativeKey());
      expect(pub.verify(M, noZa, { format: 'der' })).toBe(false);
      // and a signature over the empty-ID ZA (what one-shot crypto.sign does) fails for the default ID
      const emptyId = key.sign(M, { id: '' });
      expect(pub.verify(M, emptyId)).toBe(false);
    });

    it('rejects signatures under another key, and never throws for malformed signatures', () => {
      const other = Sm2PrivateKey.generate();
      expect(other.publicKey.verify(M, fromHex(P256.r + P256.s))).toBe(false);
      for (const bad of [new Uint8Array(0), new Uint8Array(63), new Uint8Array(65), fromHex('3000'), fromHex('30060201010201'), new Uint8Array(70).fill(0xff)]) {
        expect(pub.verify(M, bad)).toBe(false);
        expect(pub.verify(M, bad, { format: 'der' })).toBe(false);
      }
    });
  });
}

describe('SM2 public key validation', () => {
  const pubBytes = fromHex('04' + P256.px + P256.py);

  it('rejects an off-curve key with CRYPTO_BAD_KEY', () => {
    const off = pubBytes.slice();
    off[64] ^= 1;
    expect(() => Sm2PublicKey.fromBytes(off)).toThrow(CryptoKeyError);
    expect(() => Sm2PublicKey.fromBytes(off)).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_KEY' }));
    // coordinates ≥ p are rejected even if congruent
    const big = concatBytes(Uint8Array.of(4), bigIntToBytes(BigInt('0x' + P256.px) + SM2_P256.p, 33).subarray(1), pubBytes.subarray(33));
    expect(() => Sm2PublicKey.fromBytes(big)).toThrow(CryptoKeyError);
  });

  it('rejects bad lengths and prefixes, and an x with no point', () => {
    expect(() => Sm2PublicKey.fromBytes(pubBytes.subarray(0, 64))).toThrow(CryptoKeyError);
    expect(() => Sm2PublicKey.fromBytes(concatBytes(Uint8Array.of(5), pubBytes.subarray(1)))).toThrow(CryptoKeyError);
    expect(() => Sm2PublicKey.fromBytes(new Uint8Array(0))).toThrow(CryptoKeyError);
    // find an x that is not on the curve
    let x = 1n;
    for (;;) {
      try {
        Sm2PublicKey.fromBytes(concatBytes(Uint8Array.of(2), bigIntToBytes(x, 32)));
        x++;
      } catch (e) {
        expect(e).toBeInstanceOf(CryptoKeyError);
        break;
      }
    }
  });

  it('a compressed key of the wrong parity is another key and does not verify', () => {
    const key = Sm2PublicKey.fromBytes(pubBytes);
    const compressed = key.toBytes(true);
    expect(toHex(Sm2PublicKey.fromBytes(compressed).toBytes())).toBe(toHex(pubBytes));
    const flipped = compressed.slice();
    flipped[0] ^= 1; // 02 <-> 03
    const wrong = Sm2PublicKey.fromBytes(flipped);
    expect(wrong.equals(key)).toBe(false);
    expect(wrong.point.y).toBe(SM2_P256.p - key.point.y);
    expect(wrong.verify(M, fromHex(P256.r + P256.s))).toBe(false);
  });

  it('rejects an ID longer than ENTL can express', () => {
    const key = Sm2PublicKey.fromBytes(pubBytes);
    expect(() => key.verify(M, new Uint8Array(64), { id: new Uint8Array(8192) })).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_ARGUMENT' }));
    expect(key.za(new Uint8Array(8191)).length).toBe(32);
  });
});

describe('signature encodings', () => {
  it('raw <-> DER round trips, including short and high-bit integers', () => {
    for (const [r, s] of [[1n, 2n], [0x80n, 0x7fn], [n - 1n, n - 2n], [BigInt('0x' + P256.r), BigInt('0x' + P256.s)]]) {
      const raw = rawSig(r, s);
      const der = sm2SignatureRawToDer(raw);
      expect(toHex(sm2SignatureDerToRaw(der))).toBe(toHex(raw));
    }
    expect(toHex(sm2SignatureRawToDer(rawSig(1n, 0x80n)))).toBe('3007020101020200' + '80');
  });

  it('raw → DER from the bytes equals the BigInt encoder (zeros, leading zeros, high bits, random)', () => {
    const values = [0n, 1n, 0x7fn, 0x80n, 0xffn, 0x100n, 1n << 247n, (1n << 248n) - 1n, 1n << 255n, n - 1n, (1n << 256n) - 1n];
    // pseudo-random 256-bit values, shifted so that every length from 32 bytes down to 1 occurs
    for (let i = 0; i < 256; i++) values.push(BigInt('0x' + toHex(sm3(utf8(`v${i}`)))) >> BigInt(i));
    for (const r of values) {
      for (const s of [values[(Number(r % 13n) + 3) % values.length], 1n, 0x80n << 8n]) {
        const raw = rawSig(r, s);
        expect(toHex(sm2SignatureRawToDer(raw)), `${r} ${s}`).toBe(toHex(encodeDerSignature(decodeRawSignature(raw))));
      }
    }
  });

  it('rejects malformed DER with CRYPTO_BAD_SIGNATURE_ENCODING', () => {
    const good = sm2SignatureRawToDer(rawSig(5n, 6n)); // 3006 020105 020106
    const cases = [
      new Uint8Array(0),
      concatBytes(good, Uint8Array.of(0)), // trailing byte
      fromHex('3007020200050201 06'.replace(' ', '')), // non-minimal INTEGER
      fromHex('300602018502 0106'.replace(' ', '')), // negative INTEGER
      fromHex('3003020105'), // one INTEGER
      fromHex('3109020105020106'), // wrong tag
      fromHex('30810602010502 0106'.replace(' ', '')), // non-minimal length
      fromHex('3080020105020106 0000'.replace(' ', '')), // indefinite length
      concatBytes(fromHex('3026022101'), new Uint8Array(32), fromHex('020106')), // r = 2^256 does not fit 32 bytes
    ];
    for (const der of cases) expect(() => sm2SignatureDerToRaw(der), toHex(der)).toThrow(CryptoSignatureEncodingError);
    expect(() => sm2SignatureRawToDer(new Uint8Array(63))).toThrow(CryptoSignatureEncodingError);
  });
});
