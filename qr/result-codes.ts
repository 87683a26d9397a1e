// Every outcome of verifying an EHC1 text, in the order the checks run (QR.md lists the same table).
// A verification outcome is not an exception: the verifier returns it as a result with `ok` and
// `code`. Only operator actions (installing a trust bundle, loading a key) throw QrError.
import { defineErrorCodes } from '../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../common/yika-error.ts';

/** Result codes of a verification, in pipeline order. VALID is the only code with ok = true. */
export const QR_RESULT_CODES = [
  'TOO_LONG',
  'NOT_EHC1',
  'LEGACY_ONLINE_ONLY',
  'BAD_CHARSET',
  'BAD_ENCODING',
  'TOO_SHORT',
  'UNSUPPORTED_VERSION',
  'NO_TRUSTLIST',
  'TRUSTLIST_EXPIRED',
  'UNKNOWN_KID',
  'KEY_REVOKED',
  'TYPE_NOT_ALLOWED',
  'BAD_PAYLOAD',
  'BAD_SIGNATURE',
  'KEY_NOT_VALID_AT_IAT',
  'KEY_EXPIRED',
  'NOT_YET_VALID',
  'EXPIRED',
  'CARD_REVOKED',
  'REPLAYED',
  'REPLAY_STORE_UNAVAILABLE',
  'VALID',
] as const;

export type QrResultCode = (typeof QR_RESULT_CODES)[number];

/** Warnings ride on a result (ok or not); they never turn a failure into an accept. */
export const QR_WARNING_CODES = ['TRUSTLIST_STALE', 'TRUSTLIST_EXPIRED', 'SHARED_STORE_DOWN', 'CLOCK_SKEW_SUSPECTED'] as const;
export type QrWarningCode = (typeof QR_WARNING_CODES)[number];

/** What each code means for the front desk; the verifier adds specifics (when, which kid). */
export const QR_RESULT_DESCRIPTIONS: Record<QrResultCode, string> = {
  TOO_LONG: 'The scanned text is longer than any EHC1 code (over 512 characters): not a health code.',
  NOT_EHC1: 'Not an Electronic Health Card code (no "EHC1:" prefix).',
  LEGACY_ONLINE_ONLY: 'An older opaque health code: it can only be checked online with the national platform.',
  UNSUPPORTED_VERSION: 'An EHC code of a version this verifier does not know: update Yika.',
  BAD_CHARSET: 'The code contains characters other than digits after "EHC1:": rescan it.',
  BAD_ENCODING: 'The digits do not form a valid EHC1 body (damaged or truncated scan): rescan it.',
  TOO_SHORT: 'The code is too short to be an EHC1 code (truncated scan): rescan it.',
  NO_TRUSTLIST: 'No trust bundle is installed yet: codes cannot be checked offline.',
  TRUSTLIST_EXPIRED: 'The trust bundle is past its next-update time plus grace: update it before accepting codes.',
  BAD_PAYLOAD: 'The code is readable but its contents are malformed: not a valid health code.',
  UNKNOWN_KID: 'The code was signed by a key this desk does not know: update the trust bundle or check online.',
  KEY_REVOKED: 'The code was signed by a key that has been revoked: do not accept it.',
  TYPE_NOT_ALLOWED: 'The signing key may not issue this type of code (static/dynamic): do not accept it.',
  BAD_SIGNATURE: 'The signature does not match: the code is forged or altered. Do not accept it.',
  KEY_NOT_VALID_AT_IAT: 'The code claims an issue time outside the signing period of its key: do not accept it.',
  KEY_EXPIRED: 'The signing key is no longer accepted for verification: ask for a new code.',
  NOT_YET_VALID: 'The code is issued in the future: check this desk\'s clock, or ask for a new code.',
  EXPIRED: 'The code has expired: ask the patient to refresh it.',
  CARD_REVOKED: 'The health card behind this code has been revoked or replaced: do not accept it.',
  REPLAYED: 'This dynamic code has already been used (a screenshot?): ask the patient to refresh it.',
  REPLAY_STORE_UNAVAILABLE: 'The shared replay store is down and policy forbids local-only checks: try again shortly.',
  VALID: 'Valid health code.',
};

/** Errors of operator actions (install a bundle, read a key file, issue a code), not of verification. */
export const QrErrorCodes = defineErrorCodes('qr', {
  QR_TRUST_BUNDLE_INVALID: { kind: 'unprocessable', zh: '信任列表格式错误或签名校验失败。', description: 'The trust bundle is malformed or its anchor signature does not verify.' },
  QR_TRUST_BUNDLE_NOT_NEWER: { kind: 'conflict', zh: '信任列表不比已安装的更新，未做更改。', description: 'The trust bundle is not newer (seq) than the installed one; nothing changed.' },
  QR_TRUST_BUNDLE_UNAVAILABLE: { kind: 'unavailable', zh: '无法获取或读取信任列表。', description: 'The trust bundle could not be fetched or read.' },
  QR_ISSUE_INVALID: { kind: 'bad_request', zh: '要签发的健康码参数无效。', description: 'The code to issue is invalid (card id, ttl, type or extension).' },
  QR_KEY_INVALID: { kind: 'bad_request', zh: '密钥文件或十六进制密钥格式错误，或不是 SM2 密钥。', description: 'A key (file or hex) is malformed or not an SM2 key.' },
  QR_NOT_READY: { kind: 'unavailable', zh: '二维码核验尚未就绪（未加载信任列表）。', description: 'The QR verifier is not ready (no trust bundle loaded).' },
  QR_SCAN_NOT_FOUND: { kind: 'not_found', zh: '没有该编号的近期扫码结果（仅保留两分钟）。', description: 'No recent scanner result with this id (kept for two minutes).' },
});

export type QrErrorCode = keyof typeof QrErrorCodes;

export class QrError extends YikaError {
  constructor(code: QrErrorCode, message: string, details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
}
