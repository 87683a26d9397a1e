// The card text codec (apdu/healthcard/gb18030-text.ts): one GB 18030-2022 table for both directions.
// Known answers from the code charts, an independent cross-check against ICU's gb18030 decoder on every
// two-byte code, the write rule (one or two bytes only, typed error naming the code point, never the
// text), and the round-trip property over every code point of Unicode.
import { describe, expect, it } from 'vitest';
import { decodeCardText, encodeCardText, isCardText } from '../../../../apdu/healthcard/gb18030-text.ts';
import { decodeValue, encodeValue } from '../../../../apdu/healthcard/codecs.ts';
import { isYikaError } from '../../../../common/yika-error.ts';
import { GBK_PUA_81, RARE_CHARACTERS } from '../../../fixtures/names/rare-name-characters.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));

function caught(fn: () => unknown): { code: string; message: string; details?: Record<string, unknown> } {
  try { fn(); } catch (e) { if (isYikaError(e)) return { code: e.code, message: e.message, details: e.details as Record<string, unknown> }; throw e; }
  throw new Error('no error');
}

/** ICU's GB 18030 decoder, when this Node build has it with the 2022 mapping (ICU ≥ 73). */
function icuGb18030(): TextDecoder | undefined {
  try {
    const d = new TextDecoder('gb18030', { fatal: true });
    return d.decode(bytes('FE59')) === '\u9fb4' ? d : undefined;
  } catch { return undefined; }
}
const icu = icuGb18030();

describe('GB 18030 card text: known answers', () => {
  it('encodes GB 2312 / GBK / the corpus to the charted bytes', () => {
    expect(hex(encodeCardText('张三'))).toBe('D5C5C8FD');
    expect(hex(encodeCardText('A1 '))).toBe('413120');
    for (const c of RARE_CHARACTERS.filter((r) => r.bytes)) expect([c.note, hex(encodeCardText(String.fromCodePoint(c.cp)))]).toEqual([c.note, c.bytes]);
  });
  it('reads the 81 as their standard characters, not the Private Use code points of the 2000-era GBK table', () => {
    expect(decodeCardText(bytes('C1F5 FE9F'))).toBe('刘䶮');
    expect(decodeCardText(bytes('D5C5 FE56'))).toBe('张㑇');
    for (const cp of GBK_PUA_81) {
      const ch = String.fromCodePoint(cp);
      const back = decodeCardText(encodeCardText(ch));
      expect([cp.toString(16), back]).toEqual([cp.toString(16), ch]);
    }
  });
  it('reads four-byte GB 18030 written by other software (e.g. 𠀀 = 95 32 82 36), the euro of CP936 (80)', () => {
    expect(decodeCardText(bytes('CDF5 95328236'))).toBe('王𠀀');
    expect(decodeCardText(bytes('8431A437'))).toBe('\ufffd');
    expect(decodeCardText(bytes('80'))).toBe('€');
  });
  it('refuses malformed bytes with CARD_DATA_MALFORMED, never a replacement character', () => {
    for (const h of ['81', 'FF', 'D5C5 81', '8130', '813081', '8130FF30', '84 31 A5 30', 'E3 32 9A 36', 'FE 39 FE 39', '81 20']) {
      expect([h, caught(() => decodeCardText(bytes(h), 11)).code]).toEqual([h, 'CARD_DATA_MALFORMED']);
    }
  });
});

describe('GB 18030 card text: the write rule', () => {
  it('refuses a character without a two-byte code with ITEM_VALUE_NOT_GBK naming the item and the code point, not the text', () => {
    const e = caught(() => encodeValue('an', 30, '王𠀀', 11));
    expect(e).toMatchObject({ code: 'ITEM_VALUE_NOT_GBK', details: { itemNo: 11, codePoint: 'U+20000', index: 1 } });
    expect(e.message).toContain('item 11');
    expect(e.message).toContain('U+20000');
    expect(e.message).not.toContain('王');
    expect(e.message).not.toContain('𠀀');
  });
  it('refuses NUL, lone surrogates and private use (incl. the PUA the old decoder produced)', () => {
    expect(caught(() => encodeCardText('a\0b', 3)).details).toMatchObject({ codePoint: 'U+0000', index: 1 });
    expect(caught(() => encodeCardText('\ud800')).details).toMatchObject({ codePoint: 'U+D800' });
    expect(caught(() => encodeCardText('刘\ue863')).details).toMatchObject({ codePoint: 'U+E863' });
    expect(caught(() => encodeCardText('\u{F0000}')).details).toMatchObject({ codePoint: 'U+F0000' });
  });
  it('follows the corpus expectations', () => {
    for (const c of RARE_CHARACTERS) expect([c.note, isCardText(String.fromCodePoint(c.cp))]).toEqual([c.note, c.outcome === 'accepted']);
  });
  it('never normalises: a compatibility ideograph stays its own code point', () => {
    const compat = '\uf92c';
    expect(decodeCardText(encodeCardText(compat))).toBe(compat);
    expect(hex(encodeCardText(compat))).not.toBe(hex(encodeCardText('\u90ce')));
  });
});

describe('GB 18030 card text: properties over all of Unicode', () => {
  it('every accepted character is one or two bytes and decodes to itself; every supplementary character is refused', () => {
    let accepted = 0;
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp > 0xffff && cp % 97 !== 0) continue; // the astral planes: a stride sample (all are refused by construction)
      const ch = String.fromCodePoint(cp);
      if (!isCardText(ch)) continue;
      const b = encodeCardText(ch);
      if (b.length > 2 || decodeCardText(b) !== ch) expect.fail(`U+${cp.toString(16)}: ${hex(b)}`);
      if (cp > 0xffff) expect.fail(`U+${cp.toString(16)} accepted`);
      accepted++;
    }
    // ASCII without NUL (127) + the 21,886 GBK characters + 5 more standard ones of GB 18030's two-byte space.
    expect(accepted).toBe(22018);
  });
  it.skipIf(!icu)('our table equals ICU gb18030 on every two-byte code, and ICU reads every accepted character back', () => {
    for (let lead = 0x81; lead <= 0xfe; lead++) {
      for (let trail = 0x40; trail <= 0xfe; trail++) {
        if (trail === 0x7f) continue;
        const b = Uint8Array.of(lead, trail);
        const ours = decodeCardText(b);
        const theirs = icu!.decode(b);
        if (ours !== theirs) expect.fail(`${hex(b)}: ${ours.codePointAt(0)!.toString(16)} vs ICU ${theirs.codePointAt(0)!.toString(16)}`);
      }
    }
    for (let cp = 1; cp <= 0xffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (isCardText(ch) && icu!.decode(encodeCardText(ch)) !== ch) expect.fail(`U+${cp.toString(16)}`);
    }
  });
  it('decodeValue reads what encodeValue wrote, padded to the field', () => {
    for (const name of ['刘䶮', '张㑇', '欧阳喆', '龴兀郎']) expect(decodeValue('an', encodeValue('an', 30, name, 11), 11)).toBe(name);
  });
});
