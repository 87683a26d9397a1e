// Public API of the crypto leaf: SM3, SM4, SM2 (keys, signatures, key exchange), KDF, self-test, errors.
export * from './crypto-errors.ts';
export { toHex, fromHex, concatBytes, bytesEqual, bytesToBigInt, bigIntToBytes, utf8 } from './byte-encoding.ts';
export { sm3, Sm3, hmacSm3, sm3Kdf, SM3_DIGEST_LENGTH, SM3_BLOCK_LENGTH } from './sm3.ts';
export {
  sm4EncryptEcb,
  sm4DecryptEcb,
  sm4EncryptCbc,
  sm4DecryptCbc,
  sm4Ctr,
  sm4CbcMac,
  sm4ForgetKeys,
  SM4_BLOCK_LENGTH,
  SM4_KEY_LENGTH,
  type Sm4CbcMacOptions,
} from './sm4.ts';
export { padIso9797M2, unpadIso9797M2 } from './iso9797-padding.ts';
export {
  SM2_P256,
  SM2_TEST_CURVE,
  isOnCurve,
  pointAdd,
  pointDouble,
  pointNegate,
  pointMultiply,
  baseMultiply,
  curveGenerator,
  type Sm2Curve,
  type AffinePoint,
  type CurvePoint,
} from './sm2-curve.ts';
export { DEFAULT_SM2_ID, computeZa, sm2IdBytes, type Sm2Id } from './sm2-za.ts';
export {
  Sm2PublicKey,
  Sm2PrivateKey,
  sm2SignWithK,
  type Sm2SignOptions,
  type Sm2VerifyOptions,
  type Sm2SignatureFormat,
} from './sm2-keys.ts';
export { sm2SignatureRawToDer, sm2SignatureDerToRaw, SM2_RAW_SIGNATURE_LENGTH } from './sm2-signature-encoding.ts';
export { sm2Backend, setSm2Backend, sm2NativeFailure, type Sm2BackendName } from './sm2-backend.ts';
export {
  sm2KeyExchange,
  sm2KeyExchangeConfirmationMatches,
  assertSm2KeyExchangeConfirmation,
  type Sm2KeyExchangeParams,
  type Sm2KeyExchangeResult,
  type Sm2KeyExchangeRole,
} from './sm2-key-exchange.ts';
export { runSelfTest, requireSelfTest, lastSelfTestResult, type SelfTestResult } from './self-test.ts';
export { OID_SM2_CURVE, OID_EC_PUBLIC_KEY } from './sm2-key-codec.ts';
export type { Pkcs8Cipher } from './sm2-key-encryption.ts';
