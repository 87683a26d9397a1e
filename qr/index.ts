// Public API of the qr leaf: the EHC1 format, issuing, the trust bundle, the verifier and its stores.
export * from './result-codes.ts';
export { classifyCode, isResidentIdNumber, idCheckCharacter, maskCode, QR_KINDS, PAYMENT_SCHEMES, SENSITIVE_KINDS, type QrKind, type PaymentScheme, type CodeKind } from './code-kind.ts';
export { EHC1_PREFIX, MAX_TEXT_LENGTH, normaliseText, bytesToDigits, digitsToBytes, encodeEhc1Text, digitCountForBytes } from './ehc1-text.ts';
export {
  EHC1_VERSION,
  HEADER_LENGTH,
  SIGNATURE_LENGTH,
  TTL_BOUNDS,
  encodeClaims,
  encodeHeader,
  parseClaims,
  parseHeader,
  splitBody,
  type CodeType,
  type Ehc1Claims,
  type Ehc1Header,
} from './ehc1-body.ts';
export { issueCode, assembleCode, prepareCode, DEFAULT_TTL, type IssueOptions, type IssuedCode } from './issuer.ts';
export { RevocationList, revocationHash, REVOCATION_HASH_LENGTH } from './revocation-list.ts';
export {
  buildTrustBundle,
  parseTrustBundle,
  keyIdOf,
  maskToTypes,
  typesToMask,
  type KeyStatus,
  type TrustBundle,
  type TrustBundleSpec,
  type TrustKey,
  type TrustKeySpec,
} from './trust-bundle.ts';
export { TrustStore, type TrustInfo, type TrustState, type TrustStoreOptions, type ExpiredPolicy } from './trust-store.ts';
export { Verifier, type QrVerifyResult, type QrClaimsView, type VerifierOptions, type VerifyOptions, type ReplayStorePolicy } from './verifier.ts';
export { ResultCache, type CacheStats } from './result-cache.ts';
export { MemoryReplayGuard } from './stores/memory-replay-guard.ts';
export type { SharedQrStore } from './stores/shared-store.ts';
