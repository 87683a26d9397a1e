// The EHC1 text layer: digit groups by hand-computed vectors, every final-group length, the range
// rule (one digit string per byte string), prefix normalisation and legacy recognition.
import { describe, expect, it } from 'vitest';
import { bytesToDigits, checkDigits, decodeDigits, digitCountForBytes, digitsToBytes, normaliseText } from '../../../qr/ehc1-text.ts';
import { parseClaims, encodeClaims } from '../../../qr/ehc1-body.ts';

const b = (...x: number[]): Uint8Array => Uint8Array.from(x);

describe('EHC1 digits', () => {
  it('encodes groups big-endian with fixed widths (hand-computed vectors)', () => {
    expect(bytesToDigits(b(0))).toBe('000');
    expect(bytesToDigits(b(255))).toBe('255');
    expect(bytesToDigits(b(1, 0))).toBe('00256');
    expect(bytesToDigits(b(0xff, 0xff, 0xff))).toBe('16777215');
    expect(bytesToDigits(b(0xff, 0xff, 0xff, 0xff))).toBe('4294967295');
    expect(bytesToDigits(b(0xff, 0xff, 0xff, 0xff, 0xff))).toBe('1099511627775');
    expect(bytesToDigits(b(0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBe('281474976710655');
    // 2^56 − 1 = 72057594037927935 (17 digits); 1 = 00000000000000001
    expect(bytesToDigits(new Uint8Array(7).fill(0xff))).toBe('72057594037927935');
    expect(bytesToDigits(b(0, 0, 0, 0, 0, 0, 1))).toBe('00000000000000001');
    // "EHC1" + 3 bytes: 0x45484331010203 = 19501226815193603 (python3: int('45484331010203', 16))
    expect(bytesToDigits(b(0x45, 0x48, 0x43, 0x31, 1, 2, 3))).toBe('19501226815193603');
    expect(bytesToDigits(b(0x45, 0x48, 0x43, 0x31, 1, 2, 3, 0x7f))).toBe('19501226815193603127');
  });

  it('final group of L bytes uses 3, 5, 8, 10, 13, 15 digits (distinct mod 17)', () => {
    const widths = [1, 2, 3, 4, 5, 6].map((l) => digitCountForBytes(l));
    expect(widths).toEqual([3, 5, 8, 10, 13, 15]);
    expect(new Set([0, ...widths].map((w) => w % 17)).size).toBe(7);
    for (let n = 0; n <= 40; n++) expect(bytesToDigits(new Uint8Array(n).fill(0xa5)).length).toBe(digitCountForBytes(n));
  });

  it('round-trips random bytes of every length 0..220 (fast decoder vs BigInt encoder)', () => {
    for (let n = 0; n <= 220; n++) {
      const bytes = Uint8Array.from({ length: n }, () => Math.floor(Math.random() * 256));
      const digits = bytesToDigits(bytes);
      expect(digitsToBytes(digits)).toEqual(bytes);
    }
    // Extremes of a full group (the fast path's carries).
    for (const fill of [0x00, 0xff, 0x80, 0x7f, 0x01]) {
      const bytes = new Uint8Array(21).fill(fill);
      expect(digitsToBytes(bytesToDigits(bytes))).toEqual(bytes);
    }
  });

  it('rejects a group ≥ 256^L and impossible lengths', () => {
    expect(digitsToBytes('72057594037927936')).toBeNull(); // 2^56
    expect(digitsToBytes('99999999999999999')).toBeNull();
    expect(digitsToBytes('256')).toBeNull();
    expect(digitsToBytes('65536')).toBeNull();
    expect(digitsToBytes('281474976710656')).toBeNull(); // 2^48 in 15 digits
    expect(digitsToBytes('255')).toEqual(b(255));
    for (const len of [1, 2, 4, 6, 7, 9, 11, 12, 14, 16, 18]) expect(digitsToBytes('0'.repeat(len))).toBeNull();
  });
});

describe('EHC1 text normalisation', () => {
  const body = '19502680106713603';
  it('accepts the prefix in any case and trims scanner whitespace', () => {
    for (const t of [`EHC1:${body}`, `ehc1:${body}`, `eHc1:${body}`, ` EHC1:${body}\r\n`, `EHC1:${body}\n`]) {
      expect(normaliseText(t)).toEqual({ ok: true, text: `EHC1:${body}` });
    }
  });

  it('recognises legacy opaque codes, other versions and foreign text', () => {
    expect(normaliseText('0123456789abcdef'.repeat(4) + ':1')).toEqual({ ok: false, code: 'LEGACY_ONLINE_ONLY' });
    expect(normaliseText('0123456789ABCDEF'.repeat(4) + ':0:' + 'f'.repeat(32))).toEqual({ ok: false, code: 'LEGACY_ONLINE_ONLY' });
    expect(normaliseText('0123456789abcdef'.repeat(4))).toEqual({ ok: false, code: 'NOT_EHC1' }); // no colon
    expect(normaliseText('EHC2:123')).toEqual({ ok: false, code: 'UNSUPPORTED_VERSION' });
    expect(normaliseText('HC1:NCFOXN')).toEqual({ ok: false, code: 'NOT_EHC1' });
    expect(normaliseText('shc:/5676290952432060346029243740')).toEqual({ ok: false, code: 'NOT_EHC1' });
  });

  it('rejects over-long input before trimming or scanning it', () => {
    expect(normaliseText('EHC1:' + '0'.repeat(508))).toEqual({ ok: false, code: 'TOO_LONG' });
    expect(normaliseText('EHC1:' + '0'.repeat(507))).toMatchObject({ ok: true });
    expect(normaliseText(' '.repeat(2000))).toEqual({ ok: false, code: 'TOO_LONG' });
  });

  it('checks the charset (ASCII digits only: no full-width digits, signs or spaces)', () => {
    expect(checkDigits('EHC1:12a')).toEqual({ ok: false, code: 'BAD_CHARSET' });
    expect(checkDigits('EHC1:１２３')).toEqual({ ok: false, code: 'BAD_CHARSET' });
    expect(checkDigits('EHC1:-123')).toEqual({ ok: false, code: 'BAD_CHARSET' });
    expect(checkDigits('EHC1:')).toEqual({ ok: false, code: 'TOO_SHORT' });
    expect(checkDigits('EHC1:1234')).toEqual({ ok: false, code: 'BAD_ENCODING' });
    expect(checkDigits('EHC1:123')).toEqual({ ok: true, digits: '123' });
  });

  it('decodeDigits (one pass) gives what checkDigits then digitsToBytes give', () => {
    const valid = bytesToDigits(Uint8Array.from({ length: 150 }, (_, i) => (i * 37) & 0xff));
    const texts = ['', '1', '123', '1234', '12a', '-123', '１２３', '256', '255', '99999999999999999', '72057594037927935', valid, valid.slice(0, -1)];
    for (const at of [0, 5, 16, 17, valid.length - 1]) for (const ch of ['a', ' ', '/', ':', '\u0660']) texts.push(valid.slice(0, at) + ch + valid.slice(at + 1));
    for (const t of texts) {
      const text = 'EHC1:' + t;
      const checked = checkDigits(text);
      const expected = !checked.ok ? checked : digitsToBytes(checked.digits) ?? { ok: false, code: 'BAD_ENCODING' };
      const got = decodeDigits(text);
      if (expected instanceof Uint8Array) expect(got, t).toEqual({ ok: true, body: expected });
      else expect(got, t).toEqual(expected);
    }
  });
});

describe('EHC1 claims (strict msgpack)', () => {
  const claims = { cardId: new Uint8Array(32).fill(1), iat: 1_790_000_000, ttl: 60, jti: new Uint8Array(8).fill(2) };
  it('encodes the documented layout byte for byte', () => {
    const bytes = encodeClaims(claims);
    const hex = Buffer.from(bytes).toString('hex');
    expect(hex).toBe('94' + 'c420' + '01'.repeat(32) + 'ce' + (1_790_000_000).toString(16) + '3c' + 'c408' + '02'.repeat(8));
    expect(parseClaims(bytes, 'dynamic')).toEqual({ ok: true, claims });
  });

  it('refuses every truncation of valid claims', () => {
    const bytes = encodeClaims({ ...claims, ext: { a: 'b' } });
    for (let n = 0; n < bytes.length; n++) expect(parseClaims(bytes.subarray(0, n), 'dynamic').ok).toBe(false);
    expect(parseClaims(bytes, 'dynamic').ok).toBe(true);
  });

  it('refuses duplicate extension keys, non-string keys and deep nesting', () => {
    const base = Buffer.from(encodeClaims(claims)).toString('hex').slice(2);
    const withExt = (ext: string): Uint8Array => Uint8Array.from(Buffer.from('95' + base + ext, 'hex'));
    expect(parseClaims(withExt('82a161' + '01' + 'a161' + '02'), 'dynamic')).toMatchObject({ ok: false, reason: 'duplicate map key' });
    expect(parseClaims(withExt('81' + '01' + '02'), 'dynamic')).toMatchObject({ ok: false, reason: 'map key is not a string' });
    expect(parseClaims(withExt('81a161' + '91'.repeat(10) + 'c0'), 'dynamic')).toMatchObject({ ok: false, reason: 'nested too deeply' });
    expect(parseClaims(withExt('81a161' + 'd4' + '0101'), 'dynamic')).toMatchObject({ ok: false }); // ext type
  });
});
