// Hex with Buffer's own codec, in one place: upper case, the form of APDUs, status words, traces and
// the API; and the validated parse for text from outside (whole bytes of hex digits, nothing else),
// whose failure each caller turns into its own typed error (an item value, an APDU, a key, a flag).
import type { YikaError } from './yika-error.ts';

/** Upper-case hex of the bytes (a view: no copy before encoding). */
export function hexUpper(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

/**
 * The bytes of `text`, which must be whole bytes of hex digits (either case; no spaces, no 0x: strip
 * those first where a format allows them). Buffer.from(text, 'hex') alone would stop silently at the
 * first bad digit; here an odd length or a non-hex character is `error(problem)`, thrown.
 */
export function parseHex(text: string, error: (problem: string) => YikaError): Uint8Array {
  if (text.length % 2 !== 0) throw error('an odd number of hex digits');
  if (!/^[0-9A-Fa-f]*$/.test(text)) throw error('not a hex digit');
  return new Uint8Array(Buffer.from(text, 'hex'));
}
