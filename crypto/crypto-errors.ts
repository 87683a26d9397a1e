// Typed errors of the crypto leaf. Messages never carry key material or plaintext.
import { defineErrorCodes } from '../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../common/yika-error.ts';

export const CryptoErrorCode = defineErrorCodes('crypto', {
  CRYPTO_BAD_KEY: { kind: 'bad_request', zh: '密钥格式、长度或类型错误。', description: 'A key is malformed, of the wrong length or type, or a public key is not on the curve.' },
  CRYPTO_BAD_LENGTH: { kind: 'bad_request', zh: '密码运算的输入长度错误。', description: 'Input length is wrong (not a multiple of the block size, wrong IV/MAC length, bad KDF length).' },
  CRYPTO_BAD_PADDING: { kind: 'unprocessable', zh: '解密后的填充格式错误。', description: 'ISO/IEC 9797-1 method 2 padding is missing or malformed after decryption.' },
  CRYPTO_BAD_SIGNATURE_ENCODING: { kind: 'bad_request', zh: '签名格式错误。', description: 'A signature is neither a 64-byte raw r||s nor a well-formed DER SEQUENCE of two INTEGERs.' },
  CRYPTO_BAD_ENCODING: { kind: 'bad_request', zh: '密钥或签名的编码格式错误。', description: 'A hex string, PEM block or DER structure (SPKI, PKCS#8, SEC1) is malformed or is not an SM2 key.' },
  CRYPTO_BAD_ARGUMENT: { kind: 'bad_request', zh: '密码运算参数无效。', description: 'A crypto parameter is invalid (role, curve, identifier too long, ...).' },
  CRYPTO_KEY_EXCHANGE_FAILED: { kind: 'unprocessable', zh: 'SM2 密钥交换失败。', description: 'SM2 key exchange failed: a peer point is invalid, the shared point is at infinity, or a confirmation value does not match.' },
  CRYPTO_SELF_TEST_FAILED: { kind: 'internal', zh: '国密算法启动自检失败，密码模块不可用。', description: 'The start-up known-answer self-test of SM3/SM4/SM2 failed; the crypto module must not be used.' },
});
export type CryptoErrorCode = keyof typeof CryptoErrorCode;

export class CryptoError extends YikaError {
  constructor(code: CryptoErrorCode, message: string, details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
}

export class CryptoKeyError extends CryptoError {
  constructor(message: string, details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super('CRYPTO_BAD_KEY', message, details, options);
  }
}

export class CryptoLengthError extends CryptoError {
  constructor(message: string, details?: YikaErrorDetails) {
    super('CRYPTO_BAD_LENGTH', message, details);
  }
}

export class CryptoPaddingError extends CryptoError {
  constructor(message: string) {
    super('CRYPTO_BAD_PADDING', message);
  }
}

export class CryptoSignatureEncodingError extends CryptoError {
  constructor(message: string, details?: YikaErrorDetails) {
    super('CRYPTO_BAD_SIGNATURE_ENCODING', message, details);
  }
}

export class CryptoEncodingError extends CryptoError {
  constructor(message: string, details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super('CRYPTO_BAD_ENCODING', message, details, options);
  }
}

export class CryptoArgumentError extends CryptoError {
  constructor(message: string, details?: YikaErrorDetails) {
    super('CRYPTO_BAD_ARGUMENT', message, details);
  }
}

export class CryptoKeyExchangeError extends CryptoError {
  constructor(message: string, details?: YikaErrorDetails) {
    super('CRYPTO_KEY_EXCHANGE_FAILED', message, details);
  }
}

export class CryptoSelfTestError extends CryptoError {
  constructor(message: string, details?: YikaErrorDetails) {
    super('CRYPTO_SELF_TEST_FAILED', message, details);
  }
}
