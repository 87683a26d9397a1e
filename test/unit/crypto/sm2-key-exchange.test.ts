import { describe, expect, it } from 'vitest';
import {
  SM2_P256,
  SM2_TEST_CURVE,
  Sm2PrivateKey,
  Sm2PublicKey,
  assertSm2KeyExchangeConfirmation,
  concatBytes,
  fromHex,
  sm2KeyExchange,
  sm2KeyExchangeConfirmationMatches,
  toHex,
  CryptoKeyExchangeError,
  CryptoArgumentError,
  type Sm2KeyExchangeParams,
} from '../../../crypto/index.ts';

// GB/T 32918.3 (GM/T 0003.3) annex A worked example on the test curve; values as published in the
// standard and reproduced by GmSSL's, BouncyCastle's and gmsm's key exchange tests.
const A = {
  id: 'ALICE123@YAHOO.COM',
  d: '6fcba2ef9ae0ab902bc3bde3ff915d44ba4cc78f88e2f8e7f8996d3b8cceedee',
  pub: '04' + '3099093bf3c137d8fcbbcdf4a2ae50f3b0f216c3122d79425fe03a45dbfe1655' + '3df79e8dac1cf0ecbaa2f2b49d51a4b387f2efaf482339086a27a8e05baed98b',
  z: 'e4d1d0c3ca4c7f11bc8ff8cb3f4c02a78f108fa098e51a668487240f75e20f31',
  r: '83a2c9c8b96e5af70bd480b472409a9a327257f1ebb73f5b073354b248668563',
  R: '04' + '6cb5633816f4dd560b1dec458310cbcc6856c09505324a6d23150c408f162bf0' + '0d6fcf62f1036c0a1b6daccf57399223a65f7d7bf2d9637e5bbbeb857961bf1a',
};
const B = {
  id: 'BILL456@YAHOO.COM',
  d: '5e35d7d3f3c54dbac72e61819e730b019a84208ca3a35e4c2e353dfccb2a3b53',
  pub: '04' + '245493d446c38d8cc0f118374690e7df633a8a4bfb3329b5ece604b2b4f37f43' + '53c0869f4b9e17773de68fec45e14904e0dea45bf6cecf9918c85ea047c60a4c',
  z: '6b4b6d0e276691bd4a11bf72f4fb501ae309fdacb72fa6cc336e6656119abd67',
  r: '33fe21940342161c55619c4a0c060293d543c80af19748ce176d83477de71c80',
  R: '04' + '1799b2a2c778295300d9a2325c686129b8f2b5337b3dcf4514e8bbc19d900ee5' + '54c9288c82733efdf7808ae7f27d0e732f7c73a7d9ac98b7d8740a91d0db3cf4',
};
const K = '55b0ac62a6b927ba23703832c853ded4';
const SB = '284c8f198f141b502e81250f1581c7e9eeb4ca6990f9e02df388b45471f5bc5c'; // = S1
const SA = '23444daf8ed7534366cb901c84b3bdbb63504f4065c1116c91a4c00697e6cf7a'; // = S2

describe('SM2 key exchange, GB/T 32918.3 annex example (test curve, klen 128)', () => {
  const dA = Sm2PrivateKey.fromHex(A.d, SM2_TEST_CURVE);
  const dB = Sm2PrivateKey.fromHex(B.d, SM2_TEST_CURVE);
  const rA = Sm2PrivateKey.fromHex(A.r, SM2_TEST_CURVE);
  const rB = Sm2PrivateKey.fromHex(B.r, SM2_TEST_CURVE);

  it('static and ephemeral public keys and Z values match the annex', () => {
    expect(dA.publicKey.toHex()).toBe(A.pub);
    expect(dB.publicKey.toHex()).toBe(B.pub);
    expect(rA.publicKey.toHex()).toBe(A.R);
    expect(rB.publicKey.toHex()).toBe(B.R);
    expect(toHex(dA.publicKey.za(A.id))).toBe(A.z);
    expect(toHex(dB.publicKey.za(B.id))).toBe(B.z);
  });

  it('responder B computes KB and SB, and expects SA', () => {
    const res = sm2KeyExchange({
      role: 'responder',
      curve: SM2_TEST_CURVE,
      self: { priv: dB, id: B.id },
      peer: { pub: Sm2PublicKey.fromHex(A.pub, SM2_TEST_CURVE), id: A.id },
      selfEphemeral: { priv: rB },
      peerEphemeralPub: fromHex(A.R), // as received on the wire
      keyLength: 16,
    });
    expect(toHex(res.key)).toBe(K);
    expect(toHex(res.confirmSelf)).toBe(SB);
    expect(toHex(res.confirmPeerExpected)).toBe(SA);
    expect(res.selfEphemeralPub.toHex()).toBe(B.R);
  });

  it('initiator A computes KA, checks SB (S1) and sends SA', () => {
    const res = sm2KeyExchange({
      role: 'initiator',
      self: { priv: dA, id: A.id },
      peer: { pub: dB.publicKey, id: B.id },
      selfEphemeral: { priv: rA },
      peerEphemeralPub: Sm2PublicKey.fromHex(B.R, SM2_TEST_CURVE),
      keyLength: 16,
    });
    expect(toHex(res.key)).toBe(K);
    expect(toHex(res.confirmSelf)).toBe(SA);
    expect(sm2KeyExchangeConfirmationMatches(res, fromHex(SB))).toBe(true);
    expect(sm2KeyExchangeConfirmationMatches(res, fromHex(SA))).toBe(false);
    expect(() => assertSm2KeyExchangeConfirmation(res, fromHex(SB))).not.toThrow();
    expect(() => assertSm2KeyExchangeConfirmation(res, new Uint8Array(32))).toThrow(CryptoKeyExchangeError);
  });

  it('longer keys extend the KDF output (first 16 bytes unchanged)', () => {
    const res = sm2KeyExchange({
      role: 'initiator',
      self: { priv: dA, id: A.id },
      peer: { pub: dB.publicKey, id: B.id },
      selfEphemeral: { priv: rA },
      peerEphemeralPub: rB.publicKey,
      keyLength: 48,
    });
    expect(toHex(res.key).slice(0, 32)).toBe(K);
    expect(res.key.length).toBe(48);
  });
});

describe('SM2 key exchange between two parties on the recommended curve', () => {
  function run(idA = 'desk-17', idB = 'reader-0042') {
    const a = Sm2PrivateKey.generate();
    const b = Sm2PrivateKey.generate();
    const ra = Sm2PrivateKey.generate();
    const rb = Sm2PrivateKey.generate();
    const resB = sm2KeyExchange({ role: 'responder', self: { priv: b, id: idB }, peer: { pub: a.publicKey, id: idA }, selfEphemeral: { priv: rb }, peerEphemeralPub: ra.publicKey.toBytes(), keyLength: 32 });
    const resA = sm2KeyExchange({ role: 'initiator', self: { priv: a, id: idA }, peer: { pub: b.publicKey, id: idB }, selfEphemeral: { priv: ra }, peerEphemeralPub: rb.publicKey.toBytes(true), keyLength: 32 });
    return { a, b, ra, rb, resA, resB };
  }

  it('both sides agree on the key and the confirmations cross-check', () => {
    const { resA, resB } = run();
    expect(toHex(resA.key)).toBe(toHex(resB.key));
    expect(sm2KeyExchangeConfirmationMatches(resA, resB.confirmSelf)).toBe(true);
    expect(sm2KeyExchangeConfirmationMatches(resB, resA.confirmSelf)).toBe(true);
    expect(toHex(resA.confirmSelf)).not.toBe(toHex(resB.confirmSelf));
  });

  it('fresh ephemerals give fresh keys', () => {
    expect(toHex(run().resA.key)).not.toBe(toHex(run().resA.key));
  });

  it('a wrong peer ID (or role mix-up) gives a different key and failing confirmation', () => {
    const { a, b, ra, rb, resB } = run();
    const wrongId = sm2KeyExchange({ role: 'initiator', self: { priv: a, id: 'desk-17' }, peer: { pub: b.publicKey, id: 'reader-0043' }, selfEphemeral: { priv: ra }, peerEphemeralPub: rb.publicKey, keyLength: 32 });
    expect(toHex(wrongId.key)).not.toBe(toHex(resB.key));
    expect(sm2KeyExchangeConfirmationMatches(wrongId, resB.confirmSelf)).toBe(false);
    const bothInitiators = sm2KeyExchange({ role: 'responder', self: { priv: a, id: 'desk-17' }, peer: { pub: b.publicKey, id: 'reader-0042' }, selfEphemeral: { priv: ra }, peerEphemeralPub: rb.publicKey, keyLength: 32 });
    expect(toHex(bothInitiators.key)).not.toBe(toHex(resB.key));
  });

  it('rejects an invalid peer ephemeral point, mixed curves, bad role and bad length', () => {
    const { a, b, ra, rb } = run();
    const base: Sm2KeyExchangeParams = { role: 'initiator', self: { priv: a }, peer: { pub: b.publicKey }, selfEphemeral: { priv: ra }, peerEphemeralPub: rb.publicKey, keyLength: 16 };
    const off = rb.publicKey.toBytes();
    off[64] ^= 1;
    expect(() => sm2KeyExchange({ ...base, peerEphemeralPub: off })).toThrow(CryptoKeyExchangeError);
    expect(() => sm2KeyExchange({ ...base, peerEphemeralPub: concatBytes(Uint8Array.of(4), new Uint8Array(64)) })).toThrow(CryptoKeyExchangeError);
    expect(() => sm2KeyExchange({ ...base, curve: SM2_TEST_CURVE })).toThrow(CryptoArgumentError);
    expect(() => sm2KeyExchange({ ...base, selfEphemeral: { priv: Sm2PrivateKey.generate(SM2_TEST_CURVE) } })).toThrow(CryptoArgumentError);
    expect(() => sm2KeyExchange({ ...base, role: 'server' as never })).toThrow(CryptoArgumentError);
    expect(() => sm2KeyExchange({ ...base, keyLength: 0 })).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_LENGTH' }));
    expect(SM2_P256.h).toBe(1n);
  });
});
