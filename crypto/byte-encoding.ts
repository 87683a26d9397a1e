// Conversions between bytes, hex and BigInt used by the SM2 arithmetic and the key codecs.
import { parseHex } from '../common/hex.ts';
import { CryptoArgumentError, CryptoEncodingError } from './crypto-errors.ts';

/** API-boundary check for callers outside TypeScript's reach (JSON, JS): a typed error, not a TypeError. */
export function requireBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CryptoArgumentError(`${what} must be a Uint8Array`, { type: typeof value });
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Strict hex: even length, only hex digits (whitespace and an optional 0x prefix are tolerated). */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string') throw new CryptoEncodingError('hex input must be a string', { type: typeof hex });
  const clean = hex.replace(/\s+/g, '').replace(/^0x/i, '');
  return parseHex(clean, () => new CryptoEncodingError('invalid hex string', { length: clean.length }));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + toHex(bytes));
}

/** Big-endian, left-padded to `length` bytes; throws if the value does not fit. */
export function bigIntToBytes(value: bigint, length: number): Uint8Array {
  if (value < 0n) throw new RangeError('negative value');
  const hex = value.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2) throw new RangeError('value does not fit');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
