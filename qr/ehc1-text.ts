// The EHC1 text layer: "EHC1:" + the binary body as decimal digits, so the QR symbol uses numeric
// mode (10 bits per 3 digits ≈ 3.32 bits/digit: the same density as byte mode on raw bytes) and the
// text survives keyboard-wedge scanners and camera apps untouched.
//
// Digits: big-endian 7-byte groups → 17 digits each; a final group of L = 1..6 bytes → 3, 5, 8, 10,
// 13, 15 digits. Those lengths are distinct mod 17, so the digit count alone gives the byte count.
// A group whose value is ≥ 256^L is rejected (every byte string has exactly one digit string).
import { EHC_PREFIX, isOnlineCode } from './code-kind.ts';
import type { QrResultCode } from './result-codes.ts';

export const EHC1_PREFIX = 'EHC1:';
/** Longest normalised text accepted (prefix included); longer input is rejected before any work. */
const MAX_TEXT_LENGTH = 512;
/** Raw input longer than this is rejected without even trimming it. */
const MAX_RAW_LENGTH = 1024;

/** Digits for a final group of L bytes (index L); 7 is a full group. */
const DIGITS_FOR_BYTES = [0, 3, 5, 8, 10, 13, 15, 17] as const;
/** Bytes for a final group of D digits mod 17 (−1: impossible length). */
const BYTES_FOR_REMAINDER: number[] = (() => {
  const t = new Array<number>(17).fill(-1);
  for (let l = 0; l <= 6; l++) t[DIGITS_FOR_BYTES[l]] = l;
  return t;
})();


export type TextOutcome = { ok: true; digits: string } | { ok: false; code: QrResultCode };

/**
 * Normalises a scanned text: trims whitespace and CR/LF that scanners append, accepts the prefix in
 * any case. Returns the canonical text ("EHC1:" + digits) used as the cache key, or a failure code.
 */
export function normaliseText(raw: string): { ok: true; text: string } | { ok: false; code: QrResultCode } {
  if (raw.length > MAX_RAW_LENGTH) return { ok: false, code: 'TOO_LONG' };
  let text = raw;
  // Fast path: a clean scan needs no trimming and no new string.
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  if (first <= 32 || last <= 32) text = text.trim();
  if (text.length > MAX_TEXT_LENGTH) return { ok: false, code: 'TOO_LONG' };
  if (!text.startsWith(EHC1_PREFIX)) {
    const head = text.slice(0, 5);
    if (head.toUpperCase() === EHC1_PREFIX) text = EHC1_PREFIX + text.slice(5);
    else if (isOnlineCode(text)) return { ok: false, code: 'LEGACY_ONLINE_ONLY' };
    else if (EHC_PREFIX.test(text)) return { ok: false, code: 'UNSUPPORTED_VERSION' };
    else return { ok: false, code: 'NOT_EHC1' };
  }
  return { ok: true, text };
}

/** Digits of a normalised text, checked for charset and length shape (not yet decoded). */
export function checkDigits(normalised: string): TextOutcome {
  const digits = normalised.slice(EHC1_PREFIX.length);
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 48 || c > 57) return { ok: false, code: 'BAD_CHARSET' };
  }
  if (digits.length === 0) return { ok: false, code: 'TOO_SHORT' };
  if (BYTES_FOR_REMAINDER[digits.length % 17] < 0) return { ok: false, code: 'BAD_ENCODING' };
  return { ok: true, digits };
}

/** Number of digits that encode n bytes. */
export function digitCountForBytes(n: number): number {
  return Math.floor(n / 7) * 17 + DIGITS_FOR_BYTES[n % 7];
}

/** Encodes bytes as EHC1 digits. */
export function bytesToDigits(bytes: Uint8Array): string {
  let out = '';
  for (let off = 0; off < bytes.length; off += 7) {
    const len = Math.min(7, bytes.length - off);
    let v = 0n;
    for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(bytes[off + i]);
    out += v.toString().padStart(DIGITS_FOR_BYTES[len], '0');
  }
  return out;
}

/** Parses `len` decimal digits at `off` as a Number (exact for len ≤ 15); −1 if one is not 0–9. */
function parseDecimal(s: string, off: number, len: number): number {
  let v = 0;
  for (let i = off; i < off + len; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** A digit string with a character other than 0–9 (only from decodeDigits). */
const NOT_A_DIGIT = 'not a digit';

/**
 * Decodes EHC1 digits (already charset-checked) into bytes, or null when a group is out of range or
 * the length is impossible. Full groups avoid BigInt: 17 digits = hi (9) · 10^8 + lo (8), split
 * into a 32-bit high part and a 24-bit low part with exact double arithmetic.
 */
export function digitsToBytes(digits: string): Uint8Array | null {
  const r = decodeFrom(digits, 0);
  return r === NOT_A_DIGIT ? null : r;
}

/**
 * The verifier's one pass over a normalised text ("EHC1:" + digits): charset check and decoding
 * together. Gives the body, or the code checkDigits then digitsToBytes would give (BAD_CHARSET before
 * TOO_SHORT before BAD_ENCODING).
 */
export function decodeDigits(normalised: string): { ok: true; body: Uint8Array } | { ok: false; code: QrResultCode } {
  const n = normalised.length - EHC1_PREFIX.length;
  if (n > 0 && BYTES_FOR_REMAINDER[n % 17] >= 0) {
    const body = decodeFrom(normalised, EHC1_PREFIX.length);
    if (body === NOT_A_DIGIT) return { ok: false, code: 'BAD_CHARSET' };
    return body ? { ok: true, body } : { ok: false, code: 'BAD_ENCODING' };
  }
  const checked = checkDigits(normalised); // an impossible length: which error comes first
  return checked.ok ? { ok: false, code: 'BAD_ENCODING' } : checked;
}

function decodeFrom(text: string, start: number): Uint8Array | null | typeof NOT_A_DIGIT {
  const length = text.length - start;
  const full = Math.floor(length / 17);
  const tailBytes = BYTES_FOR_REMAINDER[length % 17];
  if (tailBytes < 0) return null;
  const out = new Uint8Array(full * 7 + tailBytes);
  let o = 0;
  for (let g = 0; g < full; g++) {
    const off = start + g * 17;
    const hi = parseDecimal(text, off, 9); // < 10^9
    const lo = parseDecimal(text, off + 9, 8); // < 10^8
    if (hi < 0 || lo < 0) return NOT_A_DIGIT;
    // value = hi·10^8 + lo, with hi = a·2^24 + b
    const a = Math.floor(hi / 16777216);
    const b = hi - a * 16777216;
    const x = b * 1e8 + lo; // < 2^51: exact
    const carry = Math.floor(x / 16777216);
    const low24 = x - carry * 16777216;
    const high = a * 1e8 + carry; // value = high·2^24 + low24
    if (high > 0xffffffff) return null; // value ≥ 256^7
    out[o++] = high >>> 24;
    out[o++] = (high >>> 16) & 0xff;
    out[o++] = (high >>> 8) & 0xff;
    out[o++] = high & 0xff;
    out[o++] = low24 >>> 16;
    out[o++] = (low24 >>> 8) & 0xff;
    out[o++] = low24 & 0xff;
  }
  if (tailBytes > 0) {
    let v = parseDecimal(text, start + full * 17, DIGITS_FOR_BYTES[tailBytes]); // < 10^15: exact
    if (v < 0) return NOT_A_DIGIT;
    if (v >= 256 ** tailBytes) return null;
    for (let i = tailBytes - 1; i >= 0; i--) {
      out[o + i] = v % 256;
      v = Math.floor(v / 256);
    }
  }
  return out;
}

/** The full text for a binary body. */
export function encodeEhc1Text(body: Uint8Array): string {
  return EHC1_PREFIX + bytesToDigits(body);
}
