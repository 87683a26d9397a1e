import { describe, expect, it } from 'vitest';
import { parseAtr } from '../../../apdu/atr.ts';
import { describeStatusWord, CardStatusError, triesLeft } from '../../../apdu/status-words.ts';
import { parseSimpleTlv, buildSimpleTlv, parseBerTlv, buildBerTlv, findBerTlv } from '../../../apdu/tlv.ts';
import { isYikaError } from '../../../common/yika-error.ts';
import { errorCodeInfo } from '../../../common/error-catalog.ts';
import { h, hx } from './scripted-channel.ts';

function code(fn: () => unknown): string {
  try { fn(); } catch (e) { if (isYikaError(e)) return e.code; throw e; }
  return 'no error';
}

describe('ATR', () => {
  // Our health card: 3B 8C 80 01 card8 "WS10" TCK (docs/HEALTHCARD-SECURITY.md).
  const body = h('3B8C8001' + '0102030405060708' + '57533130');
  const tck = body.subarray(1).reduce((x, b) => x ^ b, 0);
  const atr = Uint8Array.from([...body, tck]);
  it('parses the health card ATR: T=0 and T=1, 12 historical bytes, TCK', () => {
    const p = parseAtr(atr);
    expect(p.protocols).toEqual([0, 1]);
    expect(hx(p.historical)).toBe('010203040506070857533130');
    expect(p.tck).toBe(tck);
    expect(p.interfaceBytes).toEqual([{ td: 0x80 }, { td: 0x01 }, {}]);
  });
  it('parses a T=0-only ATR without TCK and with TA1', () => {
    const p = parseAtr(h('3B1F95' + '00'.repeat(15)));
    expect(p.protocols).toEqual([0]);
    expect(p.interfaceBytes[0].ta).toBe(0x95);
    expect(p.historical.length).toBe(15);
    expect(p.tck).toBeUndefined();
  });
  it('rejects bad ATRs', () => {
    const bad = atr.slice(); bad[bad.length - 1] ^= 1;
    expect(code(() => parseAtr(bad))).toBe('ATR_TCK_MISMATCH');
    expect(code(() => parseAtr(atr.subarray(0, 10)))).toBe('ATR_MALFORMED');
    expect(code(() => parseAtr(h('3A00')))).toBe('ATR_MALFORMED');
    expect(code(() => parseAtr(h('3B00FF')))).toBe('ATR_MALFORMED');
    expect(code(() => parseAtr(h('3B')))).toBe('ATR_MALFORMED');
  });
  it('never crashes on random ATRs', () => {
    let seed = 3;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) & 0xff;
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from({ length: rnd() % 36 }, rnd);
      if (i % 2) bytes[0] = 0x3b;
      try { parseAtr(bytes); } catch (e) { expect(isYikaError(e)).toBe(true); }
    }
  });
});

describe('status words', () => {
  it('describes interindustry values and families', () => {
    expect(describeStatusWord(0x9000).code).toBe('SW_OK');
    expect(describeStatusWord(0x6110)).toEqual({ code: 'SW_MORE_DATA', message: '16 response bytes still available' });
    expect(describeStatusWord(0x6c00).message).toContain('256');
    expect(describeStatusWord(0x63c3)).toEqual({ code: 'SW_VERIFICATION_FAILED', message: 'Verification failed, 3 tries left' });
    expect(describeStatusWord(0x6983).code).toBe('SW_AUTH_BLOCKED');
    expect(describeStatusWord(0x6a88).code).toBe('SW_REFERENCED_DATA_NOT_FOUND');
    expect(describeStatusWord(0x6a82).code).toBe('SW_FILE_NOT_FOUND');
    expect(describeStatusWord(0x1234).code).toBe('SW_NO_DIAGNOSIS');
    expect(triesLeft(0x63c7)).toBe(7);
    expect(triesLeft(0x6300)).toBeUndefined();
  });
  it('CardStatusError carries the SW, a catalogued code, and tries left', () => {
    const e = new CardStatusError(0x63c2, 'EXTERNAL AUTHENTICATE');
    expect(e.sw).toBe(0x63c2);
    expect(e.code).toBe('SW_VERIFICATION_FAILED');
    expect(e.details).toMatchObject({ sw: '63C2', triesLeft: 2 });
    expect(errorCodeInfo(e.code)?.module).toBe('apdu');
    expect(errorCodeInfo('SW_SECURITY_NOT_SATISFIED')?.kind).toBe('forbidden');
  });
});

describe('SIMPLE-TLV', () => {
  it('parses and builds known answers (health card TLV record)', () => {
    expect(parseSimpleTlv(h('0B02AABB0C0101'))).toEqual([{ tag: 0x0b, value: h('AABB') }, { tag: 0x0c, value: h('01') }]);
    expect(hx(buildSimpleTlv(0x39, h('110FFF')))).toBe('3903110FFF');
    const long = new Uint8Array(300).fill(1);
    const built = buildSimpleTlv(0x05, long);
    expect(hx(built.subarray(0, 4))).toBe('05FF012C');
    expect(parseSimpleTlv(built)[0].value.length).toBe(300);
  });
  it('rejects malformed SIMPLE-TLV', () => {
    expect(code(() => parseSimpleTlv(h('0B05AABB')))).toBe('TLV_MALFORMED');
    expect(code(() => parseSimpleTlv(h('00')))).toBe('TLV_MALFORMED');
    expect(code(() => parseSimpleTlv(h('0B')))).toBe('TLV_MALFORMED');
    expect(code(() => parseSimpleTlv(h('0BFF01')))).toBe('TLV_MALFORMED');
    expect(code(() => buildSimpleTlv(0, h('')))).toBe('TLV_MALFORMED');
  });
});

describe('BER-TLV', () => {
  it('parses an FCI with nested objects and multi-byte tags/lengths', () => {
    const fci = h('6F10840C' + hx(new TextEncoder().encode('WS.SYS.DDF01')) + 'A500');
    const [root] = parseBerTlv(fci);
    expect(root.tag).toBe(0x6f);
    expect(root.constructed).toBe(true);
    expect(new TextDecoder().decode(findBerTlv([root], 0x84)!.value)).toBe('WS.SYS.DDF01');
    expect(findBerTlv([root], 0xa5)!.children).toEqual([]);
    const [t2] = parseBerTlv(h('9F3803010203'));
    expect(t2.tag).toBe(0x9f38);
    const [t3] = parseBerTlv(h('DF81010100'));
    expect(t3.tag).toBe(0xdf8101);
    const long = parseBerTlv(Uint8Array.from([0x04, 0x82, 0x01, 0x00, ...new Uint8Array(256)]));
    expect(long[0].value.length).toBe(256);
  });
  it('builds and round-trips', () => {
    const built = buildBerTlv(0x6f, [{ tag: 0x84, constructed: false, value: h('915600013200') }]);
    expect(hx(built)).toBe('6F0884069156000132' + '00');
    expect(hx(buildBerTlv(0x04, new Uint8Array(200)).subarray(0, 3))).toBe('0481C8');
    expect(hx(buildBerTlv(0x9f38, h('01')))).toBe('9F380101');
  });
  it('rejects malformed BER-TLV', () => {
    expect(code(() => parseBerTlv(h('6F05840301')))).toBe('TLV_MALFORMED');
    expect(code(() => parseBerTlv(h('9F')))).toBe('TLV_MALFORMED');
    expect(code(() => parseBerTlv(h('0480')))).toBe('TLV_MALFORMED');
    expect(code(() => parseBerTlv(h('0485000000000001')))).toBe('TLV_MALFORMED');
    expect(code(() => parseBerTlv(h('9FFFFFFF7F00')))).toBe('TLV_MALFORMED');
    const deep = new Uint8Array(40).map((_, i) => (i % 2 === 0 ? 0x20 | 0x10 : 40 - i - 2 >= 0 ? 40 - i - 1 : 0));
    // 30 nested SEQUENCEs of decreasing length
    const nested: number[] = [];
    for (let i = 0; i < 30; i++) nested.push(0x30, 2 * (29 - i));
    expect(code(() => parseBerTlv(Uint8Array.from(nested)))).toBe('TLV_MALFORMED');
    void deep;
  });
  it('fuzz: random bytes never crash, only typed errors', () => {
    let seed = 11;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) & 0xff;
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: rnd() % 24 }, rnd);
      for (const parse of [parseBerTlv, parseSimpleTlv]) {
        try { parse(bytes); } catch (e) { expect(isYikaError(e), hx(bytes)).toBe(true); }
      }
    }
  });
});
