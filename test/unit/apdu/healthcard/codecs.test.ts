import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../../../apdu/healthcard/codecs.ts';
import { hexUpper as toHex } from '../../../../common/hex.ts';
import { isYikaError } from '../../../../common/yika-error.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
function code(fn: () => unknown): string {
  try { fn(); } catch (e) { if (isYikaError(e)) return e.code; throw e; }
  return 'no error';
}

describe('cn (packed BCD, F-padded)', () => {
  it('encodes known answers', () => {
    expect(toHex(encodeValue('cn', 1, '1'))).toBe('1F');
    expect(toHex(encodeValue('cn', 4, '20240131'))).toBe('20240131');
    expect(toHex(encodeValue('cn', 3, '110'))).toBe('110FFF');
    expect(toHex(encodeValue('cn', 11, '1234567890'))).toBe('1234567890FFFFFFFFFFFF');
  });
  it('decodes, stripping F; all FF is null', () => {
    expect(decodeValue('cn', hex('1F'))).toBe('1');
    expect(decodeValue('cn', hex('110FFF'))).toBe('110');
    expect(decodeValue('cn', hex('FFFF'))).toBeNull();
  });
  it('rejects bad input with typed errors', () => {
    expect(code(() => encodeValue('cn', 1, '1a'))).toBe('ITEM_VALUE_BAD_DIGIT');
    expect(code(() => encodeValue('cn', 1, '123'))).toBe('ITEM_VALUE_TOO_LONG');
    expect(code(() => decodeValue('cn', hex('1A')))).toBe('CARD_DATA_MALFORMED');
    expect(code(() => decodeValue('cn', hex('F1')))).toBe('CARD_DATA_MALFORMED');
  });
});

describe('an (GBK, 00-padded)', () => {
  it('encodes ASCII and GBK known answers', () => {
    expect(toHex(encodeValue('an', 4, '0002'))).toBe('30303032');
    // 张 = D5C5, 三 = C8FD in GBK
    expect(toHex(encodeValue('an', 6, '张三'))).toBe('D5C5C8FD0000');
  });
  it('decodes up to the first 00; all FF is null; all 00 is empty', () => {
    expect(decodeValue('an', hex('D5C5C8FD0000'))).toBe('张三');
    expect(decodeValue('an', hex('FFFFFF'))).toBeNull();
    expect(decodeValue('an', hex('0000'))).toBe('');
  });
  it('rejects bad input with typed errors', () => {
    expect(code(() => encodeValue('an', 4, '张三丰'))).toBe('ITEM_VALUE_TOO_LONG');
    expect(code(() => encodeValue('an', 10, '😀'))).toBe('ITEM_VALUE_NOT_GBK');
    expect(code(() => encodeValue('an', 10, 'a\0b'))).toBe('ITEM_VALUE_NOT_GBK');
    expect(code(() => decodeValue('an', hex('81')))).toBe('CARD_DATA_MALFORMED');
  });
});

describe('b (hex)', () => {
  it('round-trips uppercase hex; all FF is null', () => {
    expect(toHex(encodeValue('b', 2, '0a1B'))).toBe('0A1B');
    expect(decodeValue('b', hex('0A1B'))).toBe('0A1B');
    expect(decodeValue('b', hex('FF'))).toBeNull();
  });
  it('rejects bad hex and wrong lengths', () => {
    expect(code(() => encodeValue('b', 1, 'G1'))).toBe('ITEM_VALUE_BAD_HEX');
    expect(code(() => encodeValue('b', 1, '1'))).toBe('ITEM_VALUE_BAD_HEX');
    expect(code(() => encodeValue('b', 1, '0102'))).toBe('ITEM_VALUE_TOO_LONG');
    expect(code(() => encodeValue('b', 2, '01'))).toBe('ITEM_VALUE_BAD_LENGTH');
  });
  it('null encodes as all FF (erased)', () => {
    expect(toHex(encodeValue('an', 3, null))).toBe('FFFFFF');
  });
});
