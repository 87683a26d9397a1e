// Secure-messaging UPDATE RECORD (docs/HEALTHCARD-SECURITY.md): the command is built here from the doc
// with the reference SM4 and also through the simulated SAM; the card checks MAC, padding, tag, length.
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeValue } from '../../../apdu/healthcard/codecs.ts';
import { decodeValue } from '../../../apdu/healthcard/codecs.ts';
import { KEYS } from '../../../apdu/healthcard/file-map.ts';
import { createHealthCard, createSam, loadProfile, type SimHealthCard, type SimSam } from '../../../firmware-sim/cards/index.ts';
import { authenticateWithSam, card8Of, hex, reference, refSm4Ecb, samCommand, toHex, tx } from './apdu-test-kit.ts';

const profile = loadProfile(new URL('../../fixtures/profiles/beijing.json', import.meta.url).pathname);

/** Builds `04 DC rr 04 Lc' E ‖ MAC4` from the doc, with the reference implementation. */
function smUpdate(record: number, tlv: Uint8Array, stk: Uint8Array, r: Uint8Array, corrupt: 'none' | 'mac' | 'padding' = 'none'): string {
  const body = Uint8Array.from([tlv.length, ...tlv]);
  const plain = new Uint8Array((Math.floor(body.length / 16) + 1) * 16);
  plain.set(body);
  plain[body.length] = corrupt === 'padding' ? 0x81 : 0x80;
  const keys = reference.sessionKeys(stk, r);
  const e = refSm4Ecb(keys.enc, plain);
  const lc = e.length + 4;
  const header = Uint8Array.of(0x04, 0xdc, record, 0x04, lc);
  const mac = reference.mac4(keys.mac, Uint8Array.from([...header, ...e]));
  if (corrupt === 'mac') mac[0] ^= 0x80;
  return toHex(header) + toHex(e) + toHex(mac);
}

describe('secure-messaging UPDATE RECORD', () => {
  let card: SimHealthCard;
  let sam: SimSam;
  let atr: Uint8Array;
  let card8: Uint8Array;
  const nameTlv = (name: string): Uint8Array => Uint8Array.from([0x0b, 30, ...encodeValue('an', 30, name, 11)]);

  beforeEach(() => {
    card = createHealthCard(profile);
    atr = card.powerOn();
    card8 = card8Of(atr);
    sam = createSam({ province: '11' });
    sam.powerOn();
    tx(sam, '0020000003123456', 0);
    tx(card, '00A4000002DDF1');
    tx(card, '00A4000002EF06');
    expect(authenticateWithSam(card, sam, KEYS.UK_DDF1.sam, 0x05, atr, '110100')).toBe('9000');
  });

  it('Lc = 16·(⌊(n+3)/16⌋+1) + 4 and a good update reads back (name, n = 30 → Lc 0x34)', () => {
    const stk = reference.cardKey(0x28, 0x02, card8, '11');
    const r = hex(tx(card, '0084000008').data);
    const apdu = smUpdate(1, nameTlv('测试姓名'), stk, r);
    expect(apdu.slice(8, 10)).toBe('34');
    expect(tx(card, apdu)).toMatchObject({ sw: '9000', kind: 'write' });
    expect(authenticateWithSam(card, sam, KEYS.RK_DDF1.sam, 0x04, atr, '110100')).toBe('9000');
    const rec = hex(tx(card, '00B20B0000').data);
    expect(decodeValue('an', rec.subarray(2), 11)).toBe('测试姓名');
  });

  it('a wrong MAC is 6988 and writes nothing; the challenge is spent', () => {
    const stk = reference.cardKey(0x28, 0x02, card8, '11');
    const r = hex(tx(card, '0084000008').data);
    expect(tx(card, smUpdate(1, nameTlv('错误'), stk, r, 'mac')).sw).toBe('6988');
    expect(tx(card, smUpdate(1, nameTlv('错误'), stk, r)).sw).toBe('6985');
    const r2 = hex(tx(card, '0084000008').data);
    expect(tx(card, smUpdate(1, nameTlv('错误'), reference.cardKey(0x28, 0x03, card8, '11'), r2)).sw).toBe('6988'); // DF01's STK
    authenticateWithSam(card, sam, KEYS.RK_DDF1.sam, 0x04, atr, '110100');
    expect(decodeValue('an', hex(tx(card, '00B20B0000').data).subarray(2), 11)).toBe(profile.items[11]);
  });

  it('bad padding, another tag or another length is 6A80; no challenge is 6985; plain 00 DC is 6982', () => {
    const stk = reference.cardKey(0x28, 0x02, card8, '11');
    let r = hex(tx(card, '0084000008').data);
    expect(tx(card, smUpdate(1, nameTlv('甲'), stk, r, 'padding')).sw).toBe('6A80');
    r = hex(tx(card, '0084000008').data);
    expect(tx(card, smUpdate(2, nameTlv('甲'), stk, r)).sw).toBe('6A80'); // record 2 holds tag 0C
    r = hex(tx(card, '0084000008').data);
    expect(tx(card, smUpdate(1, Uint8Array.from([0x0b, 2, 0x41, 0x42]), stk, r)).sw).toBe('6A80');
    expect(tx(card, smUpdate(1, nameTlv('甲'), stk, r)).sw).toBe('6985');
    expect(tx(card, `00DC010420${toHex(nameTlv('甲'))}`).sw).toBe('6982');
    r = hex(tx(card, '0084000008').data);
    expect(tx(card, smUpdate(11, nameTlv('甲'), stk, r)).sw).toBe('6A83');
    expect(tx(card, `04DC010414${'00'.repeat(20)}`).sw).toBe('6985');
  });

  it('without the update key the SM command is 6982', () => {
    card.powerOn();
    tx(card, '00A4000002DDF1');
    tx(card, '00A4000002EF06');
    const r = hex(tx(card, '0084000008').data);
    expect(tx(card, smUpdate(1, nameTlv('甲'), reference.cardKey(0x28, 0x02, card8, '11'), r)).sw).toBe('6982');
  });

  it('through the SAM: 80DE with the STK, 80FA 00 encrypts, 80FA 05 MACs — DF02 with its two-level STK (48 04)', () => {
    card.powerOn();
    tx(card, '00A4000002DDF1');
    tx(card, '00A4000002DF02');
    tx(card, '00A4000002EF05');
    expect(authenticateWithSam(card, sam, KEYS.UK_DF02_1.sam, 0x85, atr, '110100')).toBe('9000');
    const r = tx(card, '0084000008').data;
    expect(samCommand(sam, `80DE480418${toHex(card8)}${toHex(reference.city8('11'))}${r}`).sw).toBe('9000');
    const tlv = Uint8Array.of(0x29, 0x01, 0x04); // ABO blood type AB
    const plain = Uint8Array.from([tlv.length, ...tlv, 0x80, ...new Uint8Array(11)]);
    const e = samCommand(sam, `80FA000010${toHex(plain)}`).data;
    const macInput = `04DC010414${e}`;
    const mac = samCommand(sam, `80FA0500${(macInput.length / 2).toString(16)}${macInput}`).data;
    // The SAM's answers equal the doc's maths with the reference implementation.
    const sk = reference.sessionKeys(reference.cardKey(0x48, 0x04, card8, '11'), hex(r));
    expect(e).toBe(toHex(refSm4Ecb(sk.enc, plain)));
    expect(mac).toBe(toHex(reference.mac4(sk.mac, hex(macInput))));
    expect(tx(card, `${macInput}${mac}`).sw).toBe('9000');
    expect(authenticateWithSam(card, sam, KEYS.RK_DF02.sam, 0x84, atr, '110100')).toBe('9000');
    expect(tx(card, '00B2290000').data).toBe('290104');
  });
});
