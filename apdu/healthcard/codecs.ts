// The three value encodings of WS 537 (shared/domain/health-card.md §3), to and from the string form the
// hospital API uses: an → text (GB 18030 one- and two-byte codes = GBK, right-padded 00; gb18030-text.ts), cn → digits (packed BCD, right-padded F),
// b → uppercase hex. A field whose bytes are all FF was never written and decodes to null.

import { hexUpper, parseHex } from '../../common/hex.ts';
import { HealthCardError, ItemValueError } from './health-card-errors.ts';
import type { ItemFormat } from './data-items.ts';
import { decodeCardText, encodeCardText, label, where } from './gb18030-text.ts';

function isUnwritten(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes.every((b) => b === 0xff);
}

function decodeAn(bytes: Uint8Array, itemNo?: number): string | null {
  if (isUnwritten(bytes)) return null;
  const end = bytes.indexOf(0x00);
  const text = end < 0 ? bytes : bytes.subarray(0, end);
  return decodeCardText(text, itemNo);
}

export function decodeCn(bytes: Uint8Array, itemNo?: number): string | null {
  if (isUnwritten(bytes)) return null;
  let digits = '';
  let padding = false;
  for (const byte of bytes) {
    for (const nibble of [byte >> 4, byte & 0x0f]) {
      if (nibble === 0x0f) padding = true;
      else if (padding || nibble > 9) {
        throw new HealthCardError('CARD_DATA_MALFORMED', `${label(itemNo)}: bad packed BCD`, where(itemNo));
      } else digits += String(nibble);
    }
  }
  return digits;
}

function decodeB(bytes: Uint8Array): string | null {
  if (isUnwritten(bytes)) return null;
  return hexUpper(bytes);
}

function encodeAn(value: string, length: number, itemNo?: number): Uint8Array {
  const bytes = encodeCardText(value, itemNo);
  if (bytes.length > length) {
    throw new ItemValueError('ITEM_VALUE_TOO_LONG', `${label(itemNo)}: ${bytes.length} bytes, at most ${length}`, { ...where(itemNo), length: bytes.length, max: length });
  }
  const out = new Uint8Array(length);
  out.set(bytes);
  return out;
}

function encodeCn(value: string, length: number, itemNo?: number): Uint8Array {
  if (!/^[0-9]*$/.test(value)) {
    throw new ItemValueError('ITEM_VALUE_BAD_DIGIT', `${label(itemNo)}: only digits 0–9 are allowed`, where(itemNo));
  }
  if (value.length > 2 * length) {
    throw new ItemValueError('ITEM_VALUE_TOO_LONG', `${label(itemNo)}: ${value.length} digits, at most ${2 * length}`, { ...where(itemNo), length: value.length, max: 2 * length });
  }
  const out = new Uint8Array(length).fill(0xff);
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    const byte = i >> 1;
    out[byte] = i % 2 === 0 ? (d << 4) | 0x0f : (out[byte] & 0xf0) | d;
  }
  return out;
}

export function encodeB(value: string, length: number, itemNo?: number): Uint8Array {
  const bytes = parseHex(value, () => new ItemValueError('ITEM_VALUE_BAD_HEX', `${label(itemNo)}: not an even-length hex string`, where(itemNo)));
  if (bytes.length > length) {
    throw new ItemValueError('ITEM_VALUE_TOO_LONG', `${label(itemNo)}: ${bytes.length} bytes, at most ${length}`, { ...where(itemNo), length: bytes.length, max: length });
  }
  if (bytes.length !== length) {
    throw new ItemValueError('ITEM_VALUE_BAD_LENGTH', `${label(itemNo)}: ${bytes.length} bytes, exactly ${length} needed`, { ...where(itemNo), length });
  }
  return bytes;
}

/** Decodes one field; all-FF (unwritten) → null. */
export function decodeValue(format: ItemFormat, bytes: Uint8Array, itemNo?: number): string | null {
  switch (format) {
    case 'an': return decodeAn(bytes, itemNo);
    case 'cn': return decodeCn(bytes, itemNo);
    case 'b': return decodeB(bytes);
  }
}

/** Encodes one field to exactly `length` bytes; null → all FF (erased). */
export function encodeValue(format: ItemFormat, length: number, value: string | null, itemNo?: number): Uint8Array {
  if (value === null) return new Uint8Array(length).fill(0xff);
  switch (format) {
    case 'an': return encodeAn(value, length, itemNo);
    case 'cn': return encodeCn(value, length, itemNo);
    case 'b': return encodeB(value, length, itemNo);
  }
}
