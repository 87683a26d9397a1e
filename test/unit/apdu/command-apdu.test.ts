import { describe, expect, it } from 'vitest';
import { encodeCommand, parseCommand, apduCase } from '../../../apdu/command-apdu.ts';
import { parseResponse } from '../../../apdu/response-apdu.ts';
import { isYikaError } from '../../../common/yika-error.ts';
import { h, hx } from './scripted-channel.ts';

function code(fn: () => unknown): string {
  try { fn(); } catch (e) { if (isYikaError(e)) return e.code; throw e; }
  return 'no error';
}
const base = { cla: 0x00, ins: 0xb0, p1: 0x00, p2: 0x00 };

describe('command APDU encoding (ISO/IEC 7816-4 §5.1)', () => {
  it('encodes the four short cases', () => {
    expect(hx(encodeCommand({ ...base, ins: 0x84, data: new Uint8Array(0), ne: 0 }))).toBe('00840000');
    expect(hx(encodeCommand({ ...base, data: new Uint8Array(0), ne: 256 }))).toBe('00B0000000');
    expect(hx(encodeCommand({ ...base, ins: 0xa4, data: h('DF01'), ne: 0 }))).toBe('00A4000002DF01');
    expect(hx(encodeCommand({ ...base, ins: 0xa4, data: h('DF01'), ne: 0x10 }))).toBe('00A4000002DF0110');
  });
  it('encodes extended cases 2E, 3E, 4E', () => {
    expect(hx(encodeCommand({ ...base, data: new Uint8Array(0), ne: 65536 }))).toBe('00B00000000000');
    expect(hx(encodeCommand({ ...base, data: new Uint8Array(0), ne: 0x0200 }))).toBe('00B00000000200');
    const big = new Uint8Array(300).fill(0xaa);
    const e3 = encodeCommand({ ...base, ins: 0xd6, data: big, ne: 0 });
    expect(hx(e3.subarray(0, 7))).toBe('00D6000000012C');
    expect(e3.length).toBe(307);
    expect(hx(encodeCommand({ ...base, ins: 0xd6, data: h('01'), ne: 256 }, { extended: true }))).toBe('00D60000000001' + '01' + '0100');
  });
  it('refuses impossible encodings', () => {
    expect(code(() => encodeCommand({ ...base, data: new Uint8Array(0), ne: 65537 }))).toBe('APDU_LE_OUT_OF_RANGE');
    expect(code(() => encodeCommand({ ...base, data: new Uint8Array(300), ne: 0 }, { extended: false }))).toBe('APDU_DATA_TOO_LONG');
    expect(code(() => encodeCommand({ ...base, data: new Uint8Array(0), ne: 257 }, { extended: false }))).toBe('APDU_LE_OUT_OF_RANGE');
    expect(code(() => encodeCommand({ ...base, cla: 0xff, data: new Uint8Array(0), ne: 0 }))).toBe('APDU_BAD_HEADER');
    expect(code(() => encodeCommand({ ...base, p1: 256, data: new Uint8Array(0), ne: 0 }))).toBe('APDU_BAD_HEADER');
  });
});

describe('command APDU parsing', () => {
  it('parses every case and round-trips', () => {
    const cases: Array<[string, number, boolean]> = [
      ['00840000', 1, false], ['0084000008', 2, false], ['00A4000002DF01', 3, false], ['00A4000002DF0100', 4, false],
      ['00B00000000100', 2, true], ['00D60000000002AABB', 3, true], ['00D60000000002AABB0000', 4, true],
    ];
    for (const [text, c, ext] of cases) {
      const p = parseCommand(h(text));
      expect(apduCase(p), text).toBe(c);
      expect(Boolean(p.extended), text).toBe(ext);
      expect(hx(encodeCommand(p)), text).toBe(text);
    }
    expect(parseCommand(h('0084000000')).ne).toBe(256);
    expect(parseCommand(h('00B00000000000')).ne).toBe(65536);
    expect(parseCommand(h('00D60000000002AABB0000')).ne).toBe(65536);
  });
  it('rejects malformed commands with typed errors', () => {
    expect(code(() => parseCommand(h('00A400')))).toBe('APDU_TOO_SHORT');
    expect(code(() => parseCommand(h('00A4000005DF01')))).toBe('APDU_TRUNCATED');
    expect(code(() => parseCommand(h('00A4000002DF010000')))).toBe('APDU_WRONG_LC');
    expect(code(() => parseCommand(h('00A4000000AA')))).toBe('APDU_WRONG_LC');
    expect(code(() => parseCommand(h('00D60000000002AABB00')))).toBe('APDU_EXTENDED_SHORT_MIX');
    expect(code(() => parseCommand(h('00D60000000005AABB')))).toBe('APDU_TRUNCATED');
    expect(code(() => parseCommand(h('00D60000000000AABB')))).toBe('APDU_WRONG_LC');
  });
  it('never throws anything but typed errors on random input', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) & 0xff;
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from({ length: rnd() % 12 }, rnd);
      try { parseCommand(bytes); } catch (e) { expect(isYikaError(e)).toBe(true); }
    }
  });
});

describe('response APDU', () => {
  it('splits data and SW', () => {
    const r = parseResponse(h('6F089000'));
    expect(hx(r.data)).toBe('6F08');
    expect(r.sw).toBe(0x9000);
    expect(code(() => parseResponse(h('90')))).toBe('APDU_TOO_SHORT');
  });
});
