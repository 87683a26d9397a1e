// The one text table of the card's `an` fields, for both directions: GB 18030-2022 (a superset of GBK).
// Writing is strict, reading is liberal:
// - encode: a character is written only if GB 18030 gives it a one- or two-byte code (the GBK code
//   space that every reader in the field carries as the same bytes) and reading those bytes gives the
//   same character back. Four-byte codes (CJK Extension B and most of Extension A), private-use code
//   points, NUL and lone surrogates are refused with ITEM_VALUE_NOT_GBK naming the item and the code
//   point (never the text). Why: docs/HEALTHCARD-SECURITY.md "Text on the card".
// - decode: any well-formed GB 18030 (a card written by another vendor may hold four-byte codes);
//   malformed bytes are CARD_DATA_MALFORMED, never a replacement character.
// iconv-lite's table is GB 18030-2005; the 2022 edition moved 18 two-byte codes from private use to
// standard characters (vertical forms U+FE10–FE19 and CJK U+9FB4–9FBB). We apply those 18 here so the
// table is the current standard's and equals ICU's `TextDecoder('gb18030')` on every two-byte code
// (checked in test/unit/apdu/healthcard/gb18030-text.test.ts) without depending on the Node build's ICU.

import iconv from 'iconv-lite';
import { HealthCardError, ItemValueError } from './health-card-errors.ts';

/** GB 18030-2022 two-byte codes that 2005 (iconv-lite) maps to private use: code → standard character. */
const EDITION_2022: ReadonlyArray<readonly [number, number]> = [
  [0xa6d9, 0xfe10], [0xa6da, 0xfe12], [0xa6db, 0xfe11], [0xa6dc, 0xfe13], [0xa6dd, 0xfe14], [0xa6de, 0xfe15],
  [0xa6df, 0xfe16], [0xa6ec, 0xfe17], [0xa6ed, 0xfe18], [0xa6f3, 0xfe19],
  [0xfe59, 0x9fb4], [0xfe61, 0x9fb5], [0xfe66, 0x9fb6], [0xfe67, 0x9fb7], [0xfe6d, 0x9fb8], [0xfe7e, 0x9fb9],
  [0xfe90, 0x9fba], [0xfea0, 0x9fbb],
];
const DECODE_2022 = new Map<number, number>(EDITION_2022);
const ENCODE_2022 = new Map<number, number>(EDITION_2022.map(([code, cp]) => [cp, code]));

/** Error details naming the item when there is one (shared with codecs.ts). */
export function where(itemNo: number | undefined): { itemNo?: number } {
  return itemNo === undefined ? {} : { itemNo };
}

/** How an error message names the value: "item 11" or "value". */
export function label(itemNo: number | undefined): string {
  return itemNo === undefined ? 'value' : `item ${itemNo}`;
}

function codePointLabel(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function isPrivateUse(cp: number): boolean {
  return (cp >= 0xe000 && cp <= 0xf8ff) || cp >= 0xf0000;
}

/** The character's bytes, or why it cannot be written. */
function encodeChar(cp: number): number[] | string {
  if (cp === 0) return 'NUL ends the text on the card';
  if (cp >= 0xd800 && cp <= 0xdfff) return 'a lone surrogate is not a character';
  if (isPrivateUse(cp)) return 'a private-use code point means something different on every system';
  if (cp < 0x80) return [cp];
  const code = ENCODE_2022.get(cp);
  if (code !== undefined) return [code >> 8, code & 0xff];
  const bytes = [...iconv.encode(String.fromCodePoint(cp), 'gb18030')];
  if (bytes.length !== 2) return 'it has no two-byte (GBK) code in GB 18030, only a four-byte one that GBK readers cannot read';
  if (decodeTwoByte(bytes[0], bytes[1]) !== cp) return 'it has no code of its own in GB 18030';
  return bytes;
}

function decodeTwoByte(lead: number, trail: number): number {
  const code = (lead << 8) | trail;
  const mapped = DECODE_2022.get(code);
  if (mapped !== undefined) return mapped;
  return iconv.decode(Buffer.from([lead, trail]), 'gb18030').codePointAt(0)!;
}

/**
 * GB 18030 bytes (one or two per character) of a text for a card field. Throws ITEM_VALUE_NOT_GBK
 * with details { itemNo, codePoint: "U+20000", index } at the first character that cannot be written.
 */
export function encodeCardText(text: string, itemNo?: number): Uint8Array {
  const out: number[] = [];
  let index = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const result = encodeChar(cp);
    if (typeof result === 'string') {
      throw new ItemValueError('ITEM_VALUE_NOT_GBK', `${label(itemNo)}: character ${index + 1} (${codePointLabel(cp)}) cannot be written: ${result}`, {
        ...where(itemNo),
        codePoint: codePointLabel(cp),
        index,
      });
    }
    out.push(...result);
    index++;
  }
  return Uint8Array.from(out);
}

/** True when every character of the text can be written to a card field (see encodeCardText). */
export function isCardText(text: string): boolean {
  for (const ch of text) if (typeof encodeChar(ch.codePointAt(0)!) === 'string') return false;
  return true;
}

function malformed(itemNo: number | undefined, offset: number): HealthCardError {
  return new HealthCardError('CARD_DATA_MALFORMED', `${label(itemNo)}: text is not valid GB 18030 at byte ${offset}`, { ...where(itemNo), offset });
}

/** Linear index of a four-byte code (b1 81–FE, b2 30–39, b3 81–FE, b4 30–39). */
function fourByteIndex(b1: number, b2: number, b3: number, b4: number): number {
  return (((b1 - 0x81) * 10 + (b2 - 0x30)) * 126 + (b3 - 0x81)) * 10 + (b4 - 0x30);
}
const BMP_FOUR_BYTE_LAST = fourByteIndex(0x84, 0x31, 0xa4, 0x39); // U+FFFF
const SUPPLEMENTARY_FIRST = fourByteIndex(0x90, 0x30, 0x81, 0x30); // U+10000
const SUPPLEMENTARY_LAST = fourByteIndex(0xe3, 0x32, 0x9a, 0x35); // U+10FFFF
const REPLACEMENT_CHARACTER = fourByteIndex(0x84, 0x31, 0xa4, 0x37); // U+FFFD, a real character

/** Decodes GB 18030 text (the 00 terminator already removed). Malformed bytes throw CARD_DATA_MALFORMED. */
export function decodeCardText(bytes: Uint8Array, itemNo?: number): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b1 = bytes[i];
    if (b1 < 0x80) {
      out += String.fromCharCode(b1);
      i++;
      continue;
    }
    // 0x80 alone is the euro sign of Windows code page 936 (WHATWG and ICU read it so): read it too.
    if (b1 === 0x80) {
      out += '\u20ac';
      i++;
      continue;
    }
    if (b1 === 0xff || i + 1 >= bytes.length) throw malformed(itemNo, i);
    const b2 = bytes[i + 1];
    if ((b2 >= 0x40 && b2 <= 0x7e) || (b2 >= 0x80 && b2 <= 0xfe)) {
      out += String.fromCodePoint(decodeTwoByte(b1, b2));
      i += 2;
      continue;
    }
    if (b2 < 0x30 || b2 > 0x39 || i + 3 >= bytes.length) throw malformed(itemNo, i);
    const b3 = bytes[i + 2];
    const b4 = bytes[i + 3];
    if (b3 < 0x81 || b3 > 0xfe || b4 < 0x30 || b4 > 0x39) throw malformed(itemNo, i);
    const index = fourByteIndex(b1, b2, b3, b4);
    if (index > BMP_FOUR_BYTE_LAST && (index < SUPPLEMENTARY_FIRST || index > SUPPLEMENTARY_LAST)) throw malformed(itemNo, i);
    const text = iconv.decode(Buffer.from([b1, b2, b3, b4]), 'gb18030');
    if (text.includes('\ufffd') && index !== REPLACEMENT_CHARACTER) throw malformed(itemNo, i);
    out += text;
    i += 4;
  }
  return out;
}
