// SM2 signatures travel as raw r‖s (2 × 32 bytes) or DER SEQUENCE { INTEGER r, INTEGER s }.
import { CryptoSignatureEncodingError, CryptoEncodingError } from './crypto-errors.ts';
import { bigIntToBytes, bytesToBigInt, concatBytes } from './byte-encoding.ts';
import { derChildren, derDecodeUnsignedInteger, derInteger, derReadWhole, derTlv, TAG_SEQUENCE } from './asn1-der.ts';

export const SM2_RAW_SIGNATURE_LENGTH = 64;

export interface Sm2SignatureValues {
  r: bigint;
  s: bigint;
}

export function encodeRawSignature({ r, s }: Sm2SignatureValues, size = 32): Uint8Array {
  return concatBytes(bigIntToBytes(r, size), bigIntToBytes(s, size));
}

export function encodeDerSignature({ r, s }: Sm2SignatureValues): Uint8Array {
  return derTlv(TAG_SEQUENCE, concatBytes(derInteger(r), derInteger(s)));
}

export function decodeRawSignature(raw: Uint8Array, size = 32): Sm2SignatureValues {
  if (!(raw instanceof Uint8Array) || raw.length !== 2 * size) {
    throw new CryptoSignatureEncodingError(`raw SM2 signature must be ${2 * size} bytes`, { length: raw?.length ?? null });
  }
  return { r: bytesToBigInt(raw.subarray(0, size)), s: bytesToBigInt(raw.subarray(size)) };
}

/** Strict DER: one SEQUENCE of exactly two minimal non-negative INTEGERs, no trailing bytes. */
export function decodeDerSignature(der: Uint8Array): Sm2SignatureValues {
  try {
    const seq = derReadWhole(der, TAG_SEQUENCE, 'SM2 signature');
    const items = derChildren(seq.value);
    if (items.length !== 2) throw new CryptoEncodingError('SM2 signature: SEQUENCE must hold two INTEGERs');
    return { r: derDecodeUnsignedInteger(items[0], 'r'), s: derDecodeUnsignedInteger(items[1], 's') };
  } catch (e) {
    if (e instanceof CryptoEncodingError) {
      throw new CryptoSignatureEncodingError(`malformed DER SM2 signature: ${e.message}`);
    }
    throw e;
  }
}

/**
 * Raw r‖s (2 × `size` bytes) → DER, straight from the bytes (no BigInt round trip): each half becomes a
 * minimal INTEGER (leading zero bytes dropped, one 0x00 added before a high bit). Same output as
 * encodeDerSignature(decodeRawSignature(raw)); verification runs it on every cold QR code.
 */
export function sm2SignatureRawToDer(raw: Uint8Array, size = 32): Uint8Array {
  if (!(raw instanceof Uint8Array) || raw.length !== 2 * size) {
    throw new CryptoSignatureEncodingError(`raw SM2 signature must be ${2 * size} bytes`, { length: raw?.length ?? null });
  }
  let r = 0;
  while (r < size - 1 && raw[r] === 0) r++;
  let s = size;
  while (s < 2 * size - 1 && raw[s] === 0) s++;
  const rLen = size - r + (raw[r] & 0x80 ? 1 : 0);
  const sLen = 2 * size - s + (raw[s] & 0x80 ? 1 : 0);
  const body = 2 + rLen + 2 + sLen;
  if (rLen > 127 || sLen > 127 || body > 127) return encodeDerSignature(decodeRawSignature(raw, size)); // long-form lengths: not for SM2's 32-byte values
  const out = new Uint8Array(2 + body);
  out[0] = 0x30;
  out[1] = body;
  out[2] = 0x02;
  out[3] = rLen;
  out.set(raw.subarray(r, size), 4 + rLen - (size - r)); // a high-bit pad byte stays 0x00
  const so = 4 + rLen;
  out[so] = 0x02;
  out[so + 1] = sLen;
  out.set(raw.subarray(s, 2 * size), so + 2 + sLen - (2 * size - s));
  return out;
}

/** DER → raw r‖s (64 bytes). Throws CRYPTO_BAD_SIGNATURE_ENCODING if r or s does not fit in 32 bytes. */
export function sm2SignatureDerToRaw(der: Uint8Array): Uint8Array {
  const sig = decodeDerSignature(der);
  const limit = 1n << 256n;
  if (sig.r >= limit || sig.s >= limit) throw new CryptoSignatureEncodingError('SM2 signature INTEGER longer than 32 bytes');
  return encodeRawSignature(sig);
}
