// DER codecs for SM2 keys on the recommended curve: SubjectPublicKeyInfo (RFC 5480 with the SM2 curve OID),
// PKCS#8 PrivateKeyInfo and SEC1 ECPrivateKey (RFC 5915).
import { CryptoEncodingError } from './crypto-errors.ts';
import { bigIntToBytes, bytesToBigInt, concatBytes } from './byte-encoding.ts';
import {
  decodeOid,
  derChildren,
  derDecodeUnsignedInteger,
  derInteger,
  derOid,
  derReadWhole,
  derSequence,
  derTlv,
  TAG_BIT_STRING,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
  type DerElement,
} from './asn1-der.ts';

export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_SM2_CURVE = '1.2.156.10197.1.301';

const ALGORITHM = derSequence(derOid(OID_EC_PUBLIC_KEY), derOid(OID_SM2_CURVE));

export function encodeSpki(uncompressedPoint: Uint8Array): Uint8Array {
  return derSequence(ALGORITHM, derTlv(TAG_BIT_STRING, concatBytes(Uint8Array.of(0), uncompressedPoint)));
}

function checkAlgorithm(el: DerElement): void {
  if (el.tag !== TAG_SEQUENCE) throw new CryptoEncodingError('AlgorithmIdentifier must be a SEQUENCE');
  const parts = derChildren(el.value);
  if (parts.length < 1 || parts[0].tag !== TAG_OID) throw new CryptoEncodingError('AlgorithmIdentifier without OID');
  const alg = decodeOid(parts[0].value);
  const curve = parts[1]?.tag === TAG_OID ? decodeOid(parts[1].value) : undefined;
  // Some encoders put the SM2 OID as the algorithm itself; accept it with or without the curve parameter.
  const ok = (alg === OID_EC_PUBLIC_KEY && curve === OID_SM2_CURVE) || (alg === OID_SM2_CURVE && (curve === undefined || curve === OID_SM2_CURVE));
  if (!ok) throw new CryptoEncodingError('not an SM2 key (algorithm/curve OID)', { algorithm: alg, curve: curve ?? null });
}

/** The public point bytes (as found: 04‖x‖y or compressed) from an SPKI. */
export function decodeSpki(der: Uint8Array): Uint8Array {
  const seq = derReadWhole(der, TAG_SEQUENCE, 'SubjectPublicKeyInfo');
  const parts = derChildren(seq.value);
  if (parts.length !== 2) throw new CryptoEncodingError('SubjectPublicKeyInfo must have two parts');
  checkAlgorithm(parts[0]);
  return bitStringBytes(parts[1]);
}

function bitStringBytes(el: DerElement): Uint8Array {
  if (el.tag !== TAG_BIT_STRING || el.value.length < 2 || el.value[0] !== 0) {
    throw new CryptoEncodingError('public key BIT STRING malformed');
  }
  return el.value.subarray(1);
}

export interface DecodedPrivateKey {
  d: bigint;
  /** Public point bytes when the encoding carries them. */
  publicPoint?: Uint8Array;
}

export function encodeSec1(d: bigint, uncompressedPoint: Uint8Array, withCurve = true): Uint8Array {
  const parts = [derInteger(1n), derTlv(TAG_OCTET_STRING, bigIntToBytes(d, 32))];
  if (withCurve) parts.push(derTlv(0xa0, derOid(OID_SM2_CURVE)));
  parts.push(derTlv(0xa1, derTlv(TAG_BIT_STRING, concatBytes(Uint8Array.of(0), uncompressedPoint))));
  return derSequence(...parts);
}

export function decodeSec1(der: Uint8Array, requireCurve = true): DecodedPrivateKey {
  const seq = derReadWhole(der, TAG_SEQUENCE, 'ECPrivateKey');
  const parts = derChildren(seq.value);
  if (parts.length < 2) throw new CryptoEncodingError('ECPrivateKey too short');
  if (derDecodeUnsignedInteger(parts[0], 'ECPrivateKey version') !== 1n) throw new CryptoEncodingError('ECPrivateKey version must be 1');
  if (parts[1].tag !== TAG_OCTET_STRING || parts[1].value.length === 0 || parts[1].value.length > 32) {
    throw new CryptoEncodingError('ECPrivateKey privateKey must be an OCTET STRING of at most 32 bytes');
  }
  const result: DecodedPrivateKey = { d: bytesToBigInt(parts[1].value) };
  let sawCurve = false;
  for (const el of parts.slice(2)) {
    if (el.tag === 0xa0) {
      const oid = derReadWhole(el.value, TAG_OID, 'ECPrivateKey parameters');
      const curve = decodeOid(oid.value);
      if (curve !== OID_SM2_CURVE) throw new CryptoEncodingError('ECPrivateKey is not on the SM2 curve', { curve });
      sawCurve = true;
    } else if (el.tag === 0xa1) {
      result.publicPoint = bitStringBytes(derReadWhole(el.value, TAG_BIT_STRING, 'ECPrivateKey publicKey'));
    } else {
      throw new CryptoEncodingError('unexpected field in ECPrivateKey', { tag: el.tag });
    }
  }
  if (requireCurve && !sawCurve) throw new CryptoEncodingError('ECPrivateKey names no curve (SM2 expected)');
  return result;
}

export function encodePkcs8(d: bigint, uncompressedPoint: Uint8Array): Uint8Array {
  return derSequence(derInteger(0n), ALGORITHM, derTlv(TAG_OCTET_STRING, encodeSec1(d, uncompressedPoint, false)));
}

export function decodePkcs8(der: Uint8Array): DecodedPrivateKey {
  const seq = derReadWhole(der, TAG_SEQUENCE, 'PrivateKeyInfo');
  const parts = derChildren(seq.value);
  if (parts.length < 3) throw new CryptoEncodingError('PrivateKeyInfo too short');
  const version = derDecodeUnsignedInteger(parts[0], 'PrivateKeyInfo version');
  if (version > 1n) throw new CryptoEncodingError('unsupported PrivateKeyInfo version');
  checkAlgorithm(parts[1]);
  if (parts[2].tag !== TAG_OCTET_STRING) throw new CryptoEncodingError('PrivateKeyInfo privateKey must be an OCTET STRING');
  // The curve is named by the AlgorithmIdentifier; the inner ECPrivateKey may omit it.
  return decodeSec1(parts[2].value, false);
}
