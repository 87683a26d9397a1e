import { REDACTED, SENSITIVE_KEY_SET } from './redaction.ts';

// Free-text scrubbing for log lines: whatever slipped into a message (an error from a lower layer,
// a URL) must not carry an ID number or a phone number. Structured fields are redacted by key
// (see redaction.ts, applied by scrubValue); scrubText is the second net, for text.

// 18-character resident ID numbers (17 digits + digit/X) and mainland mobile numbers (11 digits
// starting 1[3-9]), not glued to other digits or letters.
const ID_NUMBER = /(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])/g;
const MOBILE = /(?<![0-9A-Za-z])(1[3-9]\d)\d{4}(\d{4})(?!\d)/g;

/** Masks ID numbers and mobile numbers in free text, keeping enough to correlate (first/last digits). */
export function scrubText(text: string): string {
  if (text.length < 11) return text;
  return text.replace(ID_NUMBER, '$1********$2').replace(MOBILE, '$1****$2');
}

/**
 * Deep copy of a log object: values under a sensitive key replaced by [REDACTED], every other string
 * scrubbed, bounded depth and breadth (deeper content is dropped, never logged unscrubbed).
 */
export function scrubValue(value: unknown, sensitive: ReadonlySet<string> = SENSITIVE_KEY_SET, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[…]';
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => scrubValue(v, sensitive, depth + 1));
  if (value instanceof Error) return scrubError(value, sensitive, depth);
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const k in value) {
    if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
    if (n++ >= 200) break;
    out[k] = sensitive.has(k) ? REDACTED : scrubValue((value as Record<string, unknown>)[k], sensitive, depth + 1);
  }
  return out;
}

/**
 * An Error as a plain object: name, message and stack scrubbed, its own properties (code, details …)
 * scrubbed and redacted by key like any object, and its cause the same way. Never the Error itself:
 * a logger would print its message and properties as they are.
 */
function scrubError(e: Error, sensitive: ReadonlySet<string>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { type: e.name, message: scrubText(e.message) };
  if (e.stack) out.stack = scrubText(e.stack);
  let n = 0;
  for (const k of Object.keys(e)) {
    if (n++ >= 200) break;
    if (k === 'message' || k === 'stack') continue;
    out[k] = sensitive.has(k) ? REDACTED : scrubValue((e as unknown as Record<string, unknown>)[k], sensitive, depth + 1);
  }
  if (e.cause !== undefined && !('cause' in out)) out.cause = scrubValue(e.cause, sensitive, depth + 1);
  return out;
}
