// QR routes (routes/qr.ts): verify a text, statistics, the trust bundle, a recent scanner result.
// Imports only pure modules (no Node): the front-desk page type-checks against these types.
import { PAYMENT_SCHEMES, QR_KINDS, STATIC_CHECKS } from '../../../qr/code-kind.ts';
import { QR_RESULT_CODES, QR_WARNING_CODES, type QrResultCode } from '../../../qr/result-codes.ts';
import { type Static, T } from './json-type.ts';

const NullableString = (description?: string) => T.Nullable(T.String(), description === undefined ? undefined : { description });
const CodeType = (description?: string) => T.Nullable(T.Enum(['dynamic', 'static'], { type: 'string' }), description === undefined ? undefined : { description });

export const QrVerifyResultSchema = T.Object({
  ok: T.Boolean({ description: 'true only for code VALID' }),
  code: T.Enum(QR_RESULT_CODES, { type: 'string' }),
  message: T.String({ description: 'For the front desk: what happened and what to do (never the payload).' }),
  type: CodeType(),
  key: T.Nullable(T.Object({ kid: T.String(), issuer: T.String() })),
  kid: NullableString('kid from the code header, hex (also when unknown)'),
  claims: T.Nullable(
    T.Object({
      cardId: T.String(),
      cardIdKind: T.Enum(['card', 'pseudonym'], { type: 'string' }),
      ttl: T.Integer(),
      ext: T.Optional(T.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true })),
    }),
    { description: 'Only when ok. cardId is cardholder data: give it to the HIS, never log it.' },
  ),
  issuedAt: NullableString(),
  expiresAt: NullableString(),
  bundleSeq: T.Nullable(T.Integer()),
  bundleAge: T.Nullable(T.Integer(), { description: 'Seconds since the trust bundle was issued' }),
  warnings: T.Array(T.Enum(QR_WARNING_CODES, { type: 'string' })),
  cached: T.Boolean(),
  bounce: T.Boolean({ description: 'A repeat of the same scan at the same terminal within seconds' }),
  kind: T.Enum(QR_KINDS, { type: 'string', description: 'What kind of code the text is (QR.md §13), also when it is not a health code' }),
  scheme: T.Nullable(T.Enum(PAYMENT_SCHEMES, { type: 'string' }), { description: 'Payment codes: the scheme (wechat, alipay, unionpay)' }),
  masked: NullableString('Payment, insurance and ID texts: masked (the text is never kept, logged or sent in events)'),
  assurance: CodeType('Valid codes: dynamic (single use) or static (printed/screenshot: needs the second check)'),
  staticCheck: T.Nullable(T.Enum(STATIC_CHECKS, { type: 'string' }), {
    description: 'Valid static codes: the second check the desk must make before accepting (qr.staticCheck); nothing is recorded',
  }),
  scanId: T.Optional(T.String()),
  text: T.Optional(T.String({ description: 'Only in qr.scanned events to a subscriber that asked with reveal=codes and the API token: the scanned payment/insurance/ID text' })),
});
export type QrVerifyResult = Static<typeof QrVerifyResultSchema>;
export type { QrResultCode };

export const QrTrustSchema = T.Object({
  state: T.Enum(['none', 'fresh', 'stale', 'expired'], { type: 'string' }),
  seq: T.Nullable(T.Integer()),
  issuedAt: NullableString(),
  nextUpdate: NullableString(),
  ageSeconds: T.Nullable(T.Integer()),
  expiredPolicy: T.Enum(['fail', 'degrade'], { type: 'string' }),
  anchorKid: NullableString(),
  source: NullableString(),
  demo: T.Boolean(),
  revokedCards: T.Integer(),
  keys: T.Array(
    T.Object({
      kid: T.String(),
      issuer: T.String(),
      status: T.String(),
      types: T.Array(T.String()),
      signFrom: T.String(),
      signUntil: T.String(),
      verifyUntil: T.String(),
    }),
  ),
});
export type QrTrust = Static<typeof QrTrustSchema>;

export const QrStatsSchema = T.Object({
  verifications: T.Integer(),
  results: T.Unsafe<Partial<Record<QrResultCode, number>>>({ type: 'object', additionalProperties: T.Integer(), description: 'count per result code' }),
  cache: T.Object({ hits: T.Integer(), misses: T.Integer(), hitRate: T.Number(), entries: T.Integer(), bytes: T.Integer(), evictions: T.Integer() }),
  shared: T.Object({ configured: T.Boolean(), healthy: T.Nullable(T.Boolean()) }),
  pool: T.Object({ size: T.Integer() }),
  trust: T.Object({ state: T.String(), seq: T.Nullable(T.Integer()), ageSeconds: T.Nullable(T.Integer()) }),
});
export type QrStats = Static<typeof QrStatsSchema>;

export const VerifyBody = T.Object(
  {
    text: T.String({ maxLength: 4096, description: 'The scanned text (any prefix case, CR/LF tolerated); > 512 characters gives TOO_LONG' }),
    terminal: T.Optional(T.String({ maxLength: 64, description: 'Desk or scanner id, for scanner-bounce de-duplication' })),
  },
  { additionalProperties: false },
);
export type VerifyRequest = Static<typeof VerifyBody>;

export const TrustInstallBody = T.Object(
  { bundle: T.String({ maxLength: 90_000_000, pattern: '^[A-Za-z0-9+/=\\s]*$', description: 'The bundle file, base64' }) },
  { additionalProperties: false },
);

export const ScanParams = T.Object({ scanId: T.String({ maxLength: 80 }) });
