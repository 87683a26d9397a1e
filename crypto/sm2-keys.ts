// SM2 public and private keys: import/export in every format we meet (raw point, hex, SPKI, PKCS#8, SEC1,
// PEM), ZA per ID, and signatures (GB/T 32918.2) through the native backend or the pure-JS fallback.
import { inspect } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { CryptoKeyError } from './crypto-errors.ts';
import { bigIntToBytes, bytesToBigInt, concatBytes, fromHex, requireBytes, toHex } from './byte-encoding.ts';
import { pemDecode, pemEncode } from './asn1-der.ts';
import { baseMultiply, decompressY, isOnCurve, SM2_P256, type AffinePoint, type Sm2Curve } from './sm2-curve.ts';
import { decodePkcs8, decodeSec1, decodeSpki, encodePkcs8, encodeSec1, encodeSpki, type DecodedPrivateKey } from './sm2-key-codec.ts';
import { importNativePrivateKey, importNativePublicKey, nativeSign, nativeVerify } from './sm2-native.ts';
import { sm2Backend } from './sm2-backend.ts';
import { signatureInRange, signDigestJs, signDigestWithK, randomScalar, verifyDigestJs } from './sm2-js-signature.ts';
import {
  decodeDerSignature,
  decodeRawSignature,
  encodeDerSignature,
  encodeRawSignature,
  sm2SignatureRawToDer,
  type Sm2SignatureValues,
} from './sm2-signature-encoding.ts';
import { computeZa, DEFAULT_SM2_ID, sm2IdBytes, type Sm2Id } from './sm2-za.ts';
import { sm3 } from './sm3.ts';
import { decryptPkcs8, encryptPkcs8, type Pkcs8Cipher } from './sm2-key-encryption.ts';

export type Sm2SignatureFormat = 'raw' | 'der';

export interface Sm2SignOptions {
  /** Signer's distinguishing identifier (string = UTF-8). Default DEFAULT_SM2_ID. */
  id?: Sm2Id;
  /** 'raw' = r‖s, 64 bytes (default); 'der' = SEQUENCE { r, s }. */
  format?: Sm2SignatureFormat;
}

export type Sm2VerifyOptions = Sm2SignOptions;

function usesNative(curve: Sm2Curve): boolean {
  return curve === SM2_P256 && sm2Backend() === 'native';
}

function digestOf(za: Uint8Array, message: Uint8Array): bigint {
  return bytesToBigInt(sm3(concatBytes(za, message)));
}

export class Sm2PublicKey {
  readonly curve: Sm2Curve;
  readonly point: AffinePoint;
  #zaCache = new Map<string, Uint8Array>();
  #native: KeyObject | undefined;

  private constructor(curve: Sm2Curve, point: AffinePoint) {
    this.curve = curve;
    this.point = point;
  }

  /** From a point; throws CRYPTO_BAD_KEY unless it is a finite point on the curve. */
  static fromPoint(point: AffinePoint, curve: Sm2Curve = SM2_P256): Sm2PublicKey {
    if (!isOnCurve(curve, point)) throw new CryptoKeyError('SM2 public key is not on the curve');
    return new Sm2PublicKey(curve, Object.freeze({ x: point.x, y: point.y }));
  }

  /** 04‖x‖y (65 bytes) or 02/03‖x (33 bytes), validated on the curve. */
  static fromBytes(bytes: Uint8Array, curve: Sm2Curve = SM2_P256): Sm2PublicKey {
    if (!(bytes instanceof Uint8Array)) throw new CryptoKeyError('SM2 public key must be a Uint8Array');
    const size = curve.size;
    if (bytes.length === 1 + 2 * size && bytes[0] === 0x04) {
      const x = bytesToBigInt(bytes.subarray(1, 1 + size));
      const y = bytesToBigInt(bytes.subarray(1 + size));
      return Sm2PublicKey.fromPoint({ x, y }, curve);
    }
    if (bytes.length === 1 + size && (bytes[0] === 0x02 || bytes[0] === 0x03)) {
      const x = bytesToBigInt(bytes.subarray(1));
      const y = decompressY(curve, x, bytes[0] === 0x03);
      if (y === undefined) throw new CryptoKeyError('compressed SM2 public key: x is not on the curve');
      return Sm2PublicKey.fromPoint({ x, y }, curve);
    }
    throw new CryptoKeyError('SM2 public key must be 04||x||y or 02/03||x', { length: bytes.length, prefix: bytes[0] ?? null });
  }

  static fromHex(hex: string, curve: Sm2Curve = SM2_P256): Sm2PublicKey {
    return Sm2PublicKey.fromBytes(fromHex(hex), curve);
  }

  static fromSpkiDer(der: Uint8Array): Sm2PublicKey {
    return Sm2PublicKey.fromBytes(decodeSpki(der), SM2_P256);
  }

  /** "PUBLIC KEY" PEM (SPKI). */
  static fromPem(pem: string): Sm2PublicKey {
    return Sm2PublicKey.fromSpkiDer(pemDecode(pem, ['PUBLIC KEY']).der);
  }

  toBytes(compressed = false): Uint8Array {
    const size = this.curve.size;
    if (compressed) return concatBytes(Uint8Array.of(this.point.y & 1n ? 0x03 : 0x02), bigIntToBytes(this.point.x, size));
    return concatBytes(Uint8Array.of(0x04), bigIntToBytes(this.point.x, size), bigIntToBytes(this.point.y, size));
  }

  /** Uncompressed 04‖x‖y as lowercase hex. */
  toHex(): string {
    return toHex(this.toBytes());
  }

  toSpkiDer(): Uint8Array {
    this.#requireRecommendedCurve();
    return encodeSpki(this.toBytes());
  }

  toPem(): string {
    return pemEncode('PUBLIC KEY', this.toSpkiDer());
  }

  equals(other: Sm2PublicKey): boolean {
    return other.curve === this.curve && other.point.x === this.point.x && other.point.y === this.point.y;
  }

  /** ZA for this key and an ID (default DEFAULT_SM2_ID), cached per ID; returns a copy (the cache stays intact). */
  za(id?: Sm2Id): Uint8Array {
    return new Uint8Array(this.cachedZa(id)); // a real copy (Buffer#slice would be a view)
  }

  /** @internal the cached ZA itself, never handed to callers outside this module. */
  cachedZa(id?: Sm2Id): Uint8Array {
    // '-' never occurs in hex, so the default ID cannot collide with an explicit one. The default ID
    // passed explicitly (as the QR verifier does) is the same bytes: no UTF-8 encoding, no hex key.
    const isDefault = id === undefined || id === DEFAULT_SM2_ID;
    const cacheKey = isDefault ? '-' : toHex(sm2IdBytes(id));
    let za = this.#zaCache.get(cacheKey);
    if (!za) {
      za = computeZa(this.curve, this.point, sm2IdBytes(isDefault ? undefined : id));
      if (this.#zaCache.size < 16) this.#zaCache.set(cacheKey, za);
    }
    return za;
  }

  /**
   * True only for a valid SM2 signature of `message` under this key and ID. Never throws for a bad signature:
   * wrong length, malformed DER, out-of-range r/s and wrong values all return false (a malformed signature is
   * just an invalid one; use sm2SignatureDerToRaw for strict parsing with typed errors). Throws only for a bad
   * option (ID longer than 8191 bytes).
   */
  verify(message: Uint8Array, signature: Uint8Array, options: Sm2VerifyOptions = {}): boolean {
    requireBytes(message, 'signed message');
    const za = this.cachedZa(options.id);
    if (!(signature instanceof Uint8Array)) return false;
    if (options.format !== 'der' && usesNative(this.curve)) {
      // Raw r‖s straight to DER, no BigInt: OpenSSL itself refuses r or s outside [1, n−1] and
      // r + s ≡ 0 (mod n) (SM2_R_BAD_SIGNATURE → false), the checks signatureInRange does below.
      if (signature.length !== 2 * this.curve.size) return false;
      return nativeVerify(this.nativeKey(), za, message, sm2SignatureRawToDer(signature, this.curve.size));
    }
    let sig: Sm2SignatureValues;
    try {
      sig = options.format === 'der' ? decodeDerSignature(signature) : decodeRawSignature(signature, this.curve.size);
    } catch {
      return false;
    }
    if (!signatureInRange(this.curve, sig)) return false;
    if (usesNative(this.curve)) return nativeVerify(this.nativeKey(), za, message, encodeDerSignature(sig));
    return verifyDigestJs(this.curve, this.point, digestOf(za, message), sig);
  }

  /** The cached OpenSSL KeyObject (recommended curve only). */
  nativeKey(): KeyObject {
    this.#native ??= importNativePublicKey(this.toSpkiDer());
    return this.#native;
  }

  #requireRecommendedCurve(): void {
    if (this.curve !== SM2_P256) throw new CryptoKeyError('DER/PEM encodings exist only for keys on the recommended curve', { curve: this.curve.name });
  }

  toJSON(): { type: string; curve: string; publicKey: string } {
    return { type: 'sm2-public-key', curve: this.curve.name, publicKey: this.toHex() };
  }
}

export class Sm2PrivateKey {
  readonly curve: Sm2Curve;
  readonly publicKey: Sm2PublicKey;
  readonly #d: bigint;
  #native: KeyObject | undefined;

  private constructor(curve: Sm2Curve, d: bigint) {
    // 1 ≤ d ≤ n−2: signing divides by 1 + d.
    if (d < 1n || d > curve.n - 2n) throw new CryptoKeyError('SM2 private key out of range [1, n-2]');
    this.curve = curve;
    this.#d = d;
    this.publicKey = Sm2PublicKey.fromPoint(baseMultiply(curve, d) as AffinePoint, curve);
  }

  static generate(curve: Sm2Curve = SM2_P256): Sm2PrivateKey {
    return new Sm2PrivateKey(curve, randomScalar(curve, curve.n - 2n));
  }

  /** From a scalar (for key exchange and tests). */
  static fromScalar(d: bigint, curve: Sm2Curve = SM2_P256): Sm2PrivateKey {
    return new Sm2PrivateKey(curve, d);
  }

  static fromBytes(d: Uint8Array, curve: Sm2Curve = SM2_P256): Sm2PrivateKey {
    if (!(d instanceof Uint8Array)) throw new CryptoKeyError('SM2 private key must be a Uint8Array');
    if (d.length !== curve.size) throw new CryptoKeyError(`SM2 private key must be ${curve.size} bytes`, { length: d.length });
    return new Sm2PrivateKey(curve, bytesToBigInt(d));
  }

  static fromHex(hex: string, curve: Sm2Curve = SM2_P256): Sm2PrivateKey {
    const bytes = fromHex(hex);
    if (bytes.length === 0 || bytes.length > curve.size) throw new CryptoKeyError('SM2 private key hex has the wrong length', { length: bytes.length });
    return new Sm2PrivateKey(curve, bytesToBigInt(bytes));
  }

  static fromPkcs8Der(der: Uint8Array): Sm2PrivateKey {
    return Sm2PrivateKey.#fromDecoded(decodePkcs8(der));
  }

  static fromSec1Der(der: Uint8Array): Sm2PrivateKey {
    return Sm2PrivateKey.#fromDecoded(decodeSec1(der));
  }

  /**
   * "PRIVATE KEY" (PKCS#8) or SEC1 "EC PRIVATE KEY" / "SM2 PRIVATE KEY" (what `openssl ec` writes for SM2).
   * or "ENCRYPTED PRIVATE KEY" (PKCS#8 PBES2, needs `passphrase`). Other blocks (e.g. "EC PARAMETERS") are
   * skipped. Legacy OpenSSL-encrypted PEM (Proc-Type headers) is refused.
   */
  static fromPem(pem: string, passphrase?: string): Sm2PrivateKey {
    const { label, der } = pemDecode(pem, ['PRIVATE KEY', 'EC PRIVATE KEY', 'SM2 PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);
    if (label === 'ENCRYPTED PRIVATE KEY') return Sm2PrivateKey.fromPkcs8Der(decryptPkcs8(pemEncode(label, der), passphrase));
    return label === 'PRIVATE KEY' ? Sm2PrivateKey.fromPkcs8Der(der) : Sm2PrivateKey.fromSec1Der(der);
  }

  static #fromDecoded(decoded: DecodedPrivateKey): Sm2PrivateKey {
    const key = new Sm2PrivateKey(SM2_P256, decoded.d);
    if (decoded.publicPoint) {
      let embedded: Sm2PublicKey;
      try {
        embedded = Sm2PublicKey.fromBytes(decoded.publicPoint);
      } catch (cause) {
        throw new CryptoKeyError('embedded public key is invalid', undefined, { cause });
      }
      if (!embedded.equals(key.publicKey)) throw new CryptoKeyError('embedded public key does not match the private key');
    }
    return key;
  }

  /** The secret scalar d. Handle with care: never log it. */
  get scalar(): bigint {
    return this.#d;
  }

  toBytes(): Uint8Array {
    return bigIntToBytes(this.#d, this.curve.size);
  }

  toHex(): string {
    return toHex(this.toBytes());
  }

  toPkcs8Der(): Uint8Array {
    this.#requireRecommendedCurve();
    return encodePkcs8(this.#d, this.publicKey.toBytes());
  }

  toSec1Der(): Uint8Array {
    this.#requireRecommendedCurve();
    return encodeSec1(this.#d, this.publicKey.toBytes());
  }

  /** PKCS#8 "PRIVATE KEY" PEM. */
  toPem(): string {
    return pemEncode('PRIVATE KEY', this.toPkcs8Der());
  }

  /** "ENCRYPTED PRIVATE KEY" PEM (PKCS#8 PBES2 with PBKDF2; SM4-CBC by default), readable by `openssl pkey`. */
  toEncryptedPem(passphrase: string, cipher: Pkcs8Cipher = 'sm4-cbc'): string {
    return encryptPkcs8(this.toPkcs8Der(), passphrase, cipher);
  }

  /** SM2 signature over SM3(ZA‖message); raw r‖s by default. */
  sign(message: Uint8Array, options: Sm2SignOptions = {}): Uint8Array {
    requireBytes(message, 'message to sign');
    const za = this.publicKey.cachedZa(options.id);
    let sig: Sm2SignatureValues;
    if (usesNative(this.curve)) {
      const der = nativeSign(this.nativeKey(), za, message);
      if (options.format === 'der') return der;
      sig = decodeDerSignature(der);
    } else {
      sig = signDigestJs(this.curve, this.#d, digestOf(za, message));
    }
    return options.format === 'der' ? encodeDerSignature(sig) : encodeRawSignature(sig, this.curve.size);
  }

  /** The cached OpenSSL KeyObject (recommended curve only). */
  nativeKey(): KeyObject {
    this.#native ??= importNativePrivateKey(this.toPkcs8Der());
    return this.#native;
  }

  #requireRecommendedCurve(): void {
    if (this.curve !== SM2_P256) throw new CryptoKeyError('DER/PEM encodings exist only for keys on the recommended curve', { curve: this.curve.name });
  }

  // Keep the secret out of logs, JSON and console output.
  toJSON(): { type: string; curve: string; publicKey: string } {
    return { type: 'sm2-private-key', curve: this.curve.name, publicKey: this.publicKey.toHex() };
  }

  [inspect.custom](): string {
    return `Sm2PrivateKey <${this.curve.name}, redacted>`;
  }
}

/**
 * Deterministic pure-JS signature with a caller-supplied nonce k — for reproducing published vectors in
 * tests only (a reused or predictable k reveals the private key). Throws CRYPTO_BAD_KEY if k is unusable.
 */
export function sm2SignWithK(key: Sm2PrivateKey, message: Uint8Array, k: bigint, options: Sm2SignOptions = {}): Uint8Array {
  const e = digestOf(key.publicKey.cachedZa(options.id), message);
  const sig = signDigestWithK(key.curve, key.scalar, e, k);
  if (!sig) throw new CryptoKeyError('nonce k is unusable for this message');
  return options.format === 'der' ? encodeDerSignature(sig) : encodeRawSignature(sig, key.curve.size);
}
