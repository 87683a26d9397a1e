import { describe, expect, it } from 'vitest';
import { decodeOid, derEncodeLength, derInteger, derOid, derRead, pemDecode, pemEncode } from '../../../crypto/asn1-der.ts';
import { fromHex, toHex, bigIntToBytes, bytesToBigInt, CryptoEncodingError } from '../../../crypto/index.ts';

describe('DER pieces', () => {
  it('encodes the SM2 and ecPublicKey OIDs as OpenSSL does', () => {
    expect(toHex(derOid('1.2.156.10197.1.301'))).toBe('06082a811ccf5501822d');
    expect(toHex(derOid('1.2.840.10045.2.1'))).toBe('06072a8648ce3d0201');
    expect(decodeOid(fromHex('2a811ccf5501822d'))).toBe('1.2.156.10197.1.301');
    expect(decodeOid(fromHex('883703'))).toBe('2.999.3');
    expect(() => decodeOid(fromHex('2a81'))).toThrow(CryptoEncodingError);
  });

  it('encodes lengths and INTEGERs minimally', () => {
    expect(toHex(derEncodeLength(0x7f))).toBe('7f');
    expect(toHex(derEncodeLength(0x80))).toBe('8180');
    expect(toHex(derEncodeLength(0x1234))).toBe('821234');
    expect(toHex(derInteger(0n))).toBe('020100');
    expect(toHex(derInteger(0x7fn))).toBe('02017f');
    expect(toHex(derInteger(0x80n))).toBe('02020080');
  });

  it('reads long-form lengths and rejects truncation and non-minimal forms', () => {
    const long = new Uint8Array(3 + 200);
    long.set([0x04, 0x81, 200]);
    expect(derRead(long).value.length).toBe(200);
    expect(() => derRead(long.subarray(0, 100))).toThrow(CryptoEncodingError);
    expect(() => derRead(fromHex('04817f' + '00'.repeat(127)))).toThrow(CryptoEncodingError);
    expect(() => derRead(fromHex('0482000100'))).toThrow(CryptoEncodingError);
    expect(() => derRead(fromHex('1f0100'))).toThrow(CryptoEncodingError);
    expect(() => derRead(fromHex('04'))).toThrow(CryptoEncodingError);
  });

  it('PEM round trip and error on non-base64 bodies', () => {
    const der = fromHex('3003020101');
    expect(toHex(pemDecode(pemEncode('PUBLIC KEY', der), ['PUBLIC KEY']).der)).toBe('3003020101');
    expect(() => pemDecode('-----BEGIN PUBLIC KEY-----\n@@@\n-----END PUBLIC KEY-----', ['PUBLIC KEY'])).toThrow(CryptoEncodingError);
    const encrypted = '-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----';
    expect(() => pemDecode(encrypted, ['EC PRIVATE KEY'])).toThrow(/encrypted/);
  });
});

describe('byte encoding', () => {
  it('hex is strict', () => {
    expect(toHex(fromHex('0x0A0b'))).toBe('0a0b');
    expect(toHex(fromHex('0a 0b\n0c'))).toBe('0a0b0c');
    expect(() => fromHex('abc')).toThrow(CryptoEncodingError);
    expect(() => fromHex('zz')).toThrow(CryptoEncodingError);
  });

  it('BigInt <-> bytes', () => {
    expect(toHex(bigIntToBytes(1n, 4))).toBe('00000001');
    expect(bytesToBigInt(fromHex('0100'))).toBe(256n);
    expect(bytesToBigInt(new Uint8Array(0))).toBe(0n);
    expect(() => bigIntToBytes(256n, 1)).toThrow(RangeError);
  });
});
