// What kind of code a patient showed. A desk scanner reads every code on a phone screen — the
// Electronic Health Card, the medical-insurance voucher (医保电子凭证), payment codes — so every text
// gets a `kind` from its public, documented format (sources in QR.md §13). A kind is never guessed
// from the length alone: each rule is a prefix or structure plus a length, or a check digit.
//
// Payment codes, insurance vouchers and ID numbers are bearer credentials or personal data: callers
// must never log, cache or store them; `maskCode` gives the only form that may appear in events.

export const QR_KINDS = ['ehc1', 'ehc-online', 'insurance', 'payment', 'id-number', 'unknown'] as const;
export type QrKind = (typeof QR_KINDS)[number];

export const PAYMENT_SCHEMES = ['wechat', 'alipay', 'unionpay'] as const;
export type PaymentScheme = (typeof PAYMENT_SCHEMES)[number];

export interface CodeKind {
  kind: QrKind;
  /** Payment only: which scheme's documented format matched. */
  scheme: PaymentScheme | null;
}

/** Kinds whose text is a credential or personal data: masked everywhere, never logged or kept. */
export const SENSITIVE_KINDS: ReadonlySet<QrKind> = new Set<QrKind>(['insurance', 'payment', 'id-number']);

/** GB/T 2260 province-level codes (the first two digits of an ID number and the voucher's region field). */
const PROVINCES = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
]);

/** Any EHC version prefix (EHC1:, EHC2: …); qr/ehc1-text.ts uses it for UNSUPPORTED_VERSION too. */
export const EHC_PREFIX = /^EHC\d+:/i;
const ONLINE_STATIC = /^[0-9A-Fa-f]{64}:1$/;
const ONLINE_DYNAMIC = /^[0-9A-Fa-f]{64}:0:[0-9A-Fa-f]{32}$/;

/** The national platform's opaque codes: static `<64 hex>:1`, dynamic `<64 hex>:0:<32 hex>`. */
export function isOnlineCode(text: string): boolean {
  return ONLINE_STATIC.test(text) || ONLINE_DYNAMIC.test(text);
}
// 医保电子凭证: "424" (the NHSA's mark) + 17 unique digits + 2 random + 2 province + 4 extension = 28 digits.
const INSURANCE = /^424\d{19}(\d{2})\d{4}$/;
const WECHAT = /^1[0-5]\d{16}$/; // 18 digits, 10–15
const ALIPAY = /^(?:2[5-9]|30)\d{14,22}$/; // 16–24 digits, 25–30
const UNIONPAY = /^62\d{17}$/; // 19 digits, 62
const ID_NUMBER = /^\d{17}[\dXx]$/;

/** The normalised form classified: trimmed (scanners append CR/LF). */
export function classifyCode(raw: string): CodeKind {
  const text = raw.length > 1024 ? '' : raw.trim();
  if (!text) return { kind: 'unknown', scheme: null };
  if (EHC_PREFIX.test(text)) return { kind: 'ehc1', scheme: null };
  if (isOnlineCode(text)) return { kind: 'ehc-online', scheme: null };
  const ins = INSURANCE.exec(text);
  if (ins && PROVINCES.has(Number(ins[1]))) return { kind: 'insurance', scheme: null };
  // An ID number is checked before the payment prefixes: 18 digits starting 11–15 are also WeChat's
  // shape, but a random payment code passes the region, birth date and check digit about 1 in 25,000 times.
  if (ID_NUMBER.test(text) && isResidentIdNumber(text)) return { kind: 'id-number', scheme: null };
  if (WECHAT.test(text)) return { kind: 'payment', scheme: 'wechat' };
  if (UNIONPAY.test(text)) return { kind: 'payment', scheme: 'unionpay' };
  if (ALIPAY.test(text)) return { kind: 'payment', scheme: 'alipay' };
  return { kind: 'unknown', scheme: null };
}

/** GB 11643-1999 check character of the first 17 digits (ISO 7064 MOD 11-2). */
export function idCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * ((2 ** (17 - i)) % 11);
  return '10X98765432'[sum % 11];
}

/** An 18-character resident ID number: province, a real birth date (not in the future) and the check character. */
export function isResidentIdNumber(text: string, now = new Date()): boolean {
  if (!ID_NUMBER.test(text)) return false;
  if (!PROVINCES.has(Number(text.slice(0, 2)))) return false;
  const y = Number(text.slice(6, 10));
  const m = Number(text.slice(10, 12));
  const d = Number(text.slice(12, 14));
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCMonth() !== m - 1 || date.getTime() > now.getTime()) return false;
  return idCheckCharacter(text.slice(0, 17)) === text[17].toUpperCase();
}

/** The only form of a sensitive code that may leave the verifier: kind-level prefix + last two characters. */
export function maskCode(raw: string): string {
  const t = raw.trim();
  if (t.length <= 6) return '*'.repeat(t.length);
  return t.slice(0, 2) + '*'.repeat(t.length - 4) + t.slice(-2);
}

/** The second check a valid static code needs at the desk (QR.md §14; the verifier's staticCheck). */
export const STATIC_CHECKS = ['id-card', 'password', 'sms', 'none'] as const;
export type StaticCheck = (typeof STATIC_CHECKS)[number];
