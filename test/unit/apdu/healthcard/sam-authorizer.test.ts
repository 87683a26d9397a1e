import { describe, expect, it } from 'vitest';
import { SamAuthorizer, city8Of, pinToBcd } from '../../../../apdu/healthcard/sam-authorizer.ts';
import { ScriptedChannel, h, hx } from '../scripted-channel.ts';

const card8 = h('0102030405060708');
const city8 = city8Of('110101'); // "11000000"
const R = '1122334455667788';
const C = '000102030405060708090A0B0C0D0E0F';
// EF001A: key index ‖ issuer id ‖ receiver id (BCD, province first) ‖ start ‖ end
const EF001A = '01' + '594B313130303030' + '1100000000000000' + '20250101' + '20351231';
const samInfoScript = (ef1a = EF001A): Array<[string, string]> => [
  ['00A40000023F00', '9000'], ['00A40000020015', '9000'], ['00B000000E', '12345678901234567890010101009000'],
  ['00A40000023F00', '9000'], ['00A40000020016', '9000'], ['00B0000006', '0000000000019000'],
  ['00A4000002DF01', '9000'], ['00A4000002001A', '9000'], ['00B0000019', ef1a + '9000'],
];

describe('SamAuthorizer', () => {
  it('sends the exact EXTERNAL AUTHENTICATE sequence of HEALTHCARD-SECURITY.md (two-level key)', async () => {
    const sam = new ScriptedChannel([
      ...samInfoScript(),
      ['0020000003123456', '9000'],
      ['80DE473118' + hx(card8) + hx(city8) + R, '9000'],
      ['80FA000010' + '59494B41484F5354' + '0000000000000000', '6110'],
      ['00C0000010', C + '9000'],
    ]);
    const card = new ScriptedChannel([['0084000008', R + '9000'], ['0082000411' + '0808080808080808' + '59494B41484F5354' + '01', '9000']]);
    const a = new SamAuthorizer(sam, { pin: '123456' });
    await a.externalAuthenticate(card, { keyRef: 0x04, samKey: [0x47, 0x31], card8, city8 });
    expect(hx(city8)).toBe('3131303030303030');
    expect(card.sent).toHaveLength(2);
    expect(sam.sent).toHaveLength(13);
    const info = await a.readInfo();
    expect(info).toMatchObject({ serial: '12345678901234567890', province: '11', terminalId: '000000000001', startDate: '20250101', endDate: '20351231' });
  });

  it('verifies the PIN once per SAM power-on and skips the province check for one-level keys', async () => {
    const sam = new ScriptedChannel([
      ['0020000003123456', '9000'],
      ['80DE272A10' + hx(card8) + R, '9000'], ['80FA000010*'.replace('*', '59494B41484F53540000000000000000'), '6110'], ['00C0000010', C + '9000'],
      ['80DE272A10' + hx(card8) + R, '9000'], ['80FA00001059494B41484F53540000000000000000', '6110'], ['00C0000010', C + '9000'],
      ['0020000003123456', '9000'],
      ['80DE272A10' + hx(card8) + R, '9000'], ['80FA00001059494B41484F53540000000000000000', '6110'], ['00C0000010', C + '9000'],
    ]);
    const cardScript = (): Array<[string, string]> => [['0084000008', R + '9000'], ['*', '9000']];
    const card = new ScriptedChannel([...cardScript(), ...cardScript(), ...cardScript()]);
    const a = new SamAuthorizer(sam, { pin: '123456' });
    const p = { keyRef: 0x05, samKey: [0x27, 0x2a] as const, card8, city8: city8Of('440300') };
    await a.externalAuthenticate(card, p);
    await a.externalAuthenticate(card, p);
    a.samPoweredOn();
    await a.externalAuthenticate(card, p);
    expect(sam.sent.filter((s) => s.startsWith('0020'))).toHaveLength(2);
  });

  it('sends the exact secure-messaging UPDATE RECORD sequence', async () => {
    const E = 'A0A1A2A3A4A5A6A7A8A9AAABACADAEAF';
    const sam = new ScriptedChannel([
      ['0020000003123456', '9000'],
      ['80DE280210' + hx(card8) + R, '9000'],
      // L ‖ TLV(0C 01 01) ‖ 80 ‖ 00… = 16 bytes
      ['80FA000010' + '030C0101' + '80' + '00'.repeat(11), '6110'], ['00C0000010', E + '9000'],
      ['80FA050015' + '04DC020414' + E, '6104'], ['00C0000004', 'CAFEBABE9000'],
    ]);
    const card = new ScriptedChannel([['0084000008', R + '9000'], ['04DC020414' + E + 'CAFEBABE', '9000']]);
    await new SamAuthorizer(sam, { pin: '123456' }).secureUpdateRecord(card, { record: 2, tlv: h('0C0101'), stk: [0x28, 0x02], card8, city8 });
    expect(card.sent).toHaveLength(2);
  });

  it('Lc of the card command follows 16·(⌊(n+3)/16⌋+1)+4', async () => {
    for (const n of [1, 12, 13, 30, 100, 180]) {
      const plainLength = 16 * (Math.floor((n + 3) / 16) + 1);
      const sam = new ScriptedChannel([
        ['0020000003123456', '9000'], ['*', '9000'], ['*', '61' + plainLength.toString(16).padStart(2, '0')],
        ['*', '00'.repeat(plainLength) + '9000'], ['*', '6104'], ['*', '000000009000'],
      ]);
      const card = new ScriptedChannel([['0084000008', R + '9000'], ['*', '9000']]);
      await new SamAuthorizer(sam, { pin: '123456' }).secureUpdateRecord(card, { record: 1, tlv: new Uint8Array(n + 2), stk: [0x28, 0x02], card8, city8 });
      expect(parseInt(card.sent[1].slice(8, 10), 16), `n=${n}`).toBe(plainLength + 4);
    }
  });

  it('maps SAM and card refusals to typed errors', async () => {
    const cardOk = (): ScriptedChannel => new ScriptedChannel([['0084000008', R + '9000']]);
    const p = { keyRef: 0x05, samKey: [0x27, 0x2a] as const, card8, city8 };
    await expect(new SamAuthorizer(new ScriptedChannel([['*', '63C2']]), { pin: '123456' }).externalAuthenticate(cardOk(), p))
      .rejects.toMatchObject({ code: 'SAM_PIN_WRONG', details: { triesLeft: 2 } });
    await expect(new SamAuthorizer(new ScriptedChannel([['*', '6983']]), { pin: '123456' }).externalAuthenticate(cardOk(), p))
      .rejects.toMatchObject({ code: 'SAM_PIN_BLOCKED' });
    await expect(new SamAuthorizer(new ScriptedChannel([['*', '9000'], ['*', '6A88']]), { pin: '123456' }).externalAuthenticate(cardOk(), p))
      .rejects.toMatchObject({ code: 'SAM_KEY_NOT_FOUND' });
    await expect(new SamAuthorizer(undefined, { pin: '123456' }).externalAuthenticate(cardOk(), p)).rejects.toMatchObject({ code: 'NO_SAM' });
    const samOk = (): ScriptedChannel => new ScriptedChannel([['*', '9000'], ['*', '9000'], ['*', '6110'], ['*', C + '9000']]);
    const card = (sw: string): ScriptedChannel => new ScriptedChannel([['0084000008', R + '9000'], ['*', sw]]);
    await expect(new SamAuthorizer(samOk(), { pin: '123456' }).externalAuthenticate(card('63C5'), p)).rejects.toMatchObject({ code: 'CARD_AUTH_FAILED', details: { triesLeft: 5 } });
    await expect(new SamAuthorizer(samOk(), { pin: '123456' }).externalAuthenticate(card('6983'), p)).rejects.toMatchObject({ code: 'CARD_KEY_BLOCKED' });
    // A two-level key for a card of province 44 with a SAM of province 11: refused before the card sees a cryptogram.
    const sam = new ScriptedChannel(samInfoScript());
    const c = new ScriptedChannel([['0084000008', R + '9000']]);
    await expect(new SamAuthorizer(sam, { pin: '123456' }).externalAuthenticate(c, { ...p, samKey: [0x47, 0x31], city8: city8Of('440300') }))
      .rejects.toMatchObject({ code: 'CARD_FROM_OTHER_PROVINCE', details: { cardProvince: '44', samProvince: '11' } });
    expect(c.sent).toEqual([]);
  });

  it('encodes PINs as packed BCD', () => {
    expect(hx(pinToBcd('123456'))).toBe('123456');
    expect(hx(pinToBcd('12345'))).toBe('12345F');
    expect(() => pinToBcd('12a4')).toThrow(expect.objectContaining({ code: 'ITEM_VALUE_INVALID' }));
  });
});
