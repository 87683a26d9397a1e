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

/** Raw r‖s (64 bytes) → DER. */
export function sm2SignatureRawToDer(raw: Uint8Array): Uint8Array {
  return encodeDerSignature(decodeRawSignature(raw));
}

/** DER → raw r‖s (64 bytes). Throws CRYPTO_BAD_SIGNATURE_ENCODING if r or s does not fit in 32 bytes. */
export function sm2SignatureDerToRaw(der: Uint8Array): Uint8Array {
  const sig = decodeDerSignature(der);
  const limit = 1n << 256n;
  if (sig.r >= limit || sig.s >= limit) throw new CryptoSignatureEncodingError('SM2 signature INTEGER longer than 32 bytes');
  return encodeRawSignature(sig);
}
