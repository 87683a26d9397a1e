// common/hex.ts: upper-case hex of a view (offset and length honoured), and the validated parse that
// refuses what Buffer.from(text, 'hex') would silently truncate (odd length, a non-hex character).
import { describe, expect, it } from 'vitest';
import { hexUpper, parseHex } from '../../common/hex.ts';
import { YikaError } from '../../common/yika-error.ts';

const refuse = (problem: string) => new YikaError('TEST_BAD_HEX', problem);

describe('hex', () => {
  it('hexUpper encodes exactly the view', () => {
    const whole = Uint8Array.from([0x00, 0x0a, 0xbc, 0xff, 0x90, 0x00]);
    expect(hexUpper(whole)).toBe('000ABCFF9000');
    expect(hexUpper(whole.subarray(2, 4))).toBe('BCFF');
    expect(hexUpper(whole.subarray(6))).toBe('');
  });

  it('parseHex: whole bytes of hex digits, either case', () => {
    expect(parseHex('00a4040C', refuse)).toEqual(Uint8Array.from([0x00, 0xa4, 0x04, 0x0c]));
    expect(parseHex('', refuse)).toEqual(new Uint8Array(0));
    expect(parseHex('ff', refuse)).toBeInstanceOf(Uint8Array);
  });

  it('parseHex refuses what Buffer would truncate, with the caller’s typed error', () => {
    // Buffer.from('00A4zz', 'hex') is 2 bytes, silently: the reason for this module.
    expect(Buffer.from('00A4zz', 'hex').length).toBe(2);
    for (const [text, problem] of [['0', 'an odd number of hex digits'], ['00A4zz', 'not a hex digit'], ['00 A4', 'an odd number of hex digits'], ['0x00', 'not a hex digit'], ['００', 'not a hex digit']]) {
      expect(() => parseHex(text, refuse), text).toThrow(expect.objectContaining({ code: 'TEST_BAD_HEX', message: problem }));
    }
  });

  it('parseHex over every two-character text of a mixed alphabet agrees with a byte-by-byte reading', () => {
    const alphabet = '0123456789abcdefABCDEFgG x-';
    for (const a of alphabet) {
      for (const b of alphabet) {
        const text = a + b;
        const ok = /^[0-9a-fA-F]{2}$/.test(text);
        if (ok) expect(parseHex(text, refuse)).toEqual(Uint8Array.of(Number.parseInt(text, 16)));
        else expect(() => parseHex(text, refuse), text).toThrow(YikaError);
      }
    }
  });
});
