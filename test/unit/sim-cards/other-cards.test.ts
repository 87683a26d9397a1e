import { describe, expect, it } from 'vitest';
import {
  createBlankCpuCard, createMuteCard, createOnly6d00Card, createTransitCard, BLANK_CARD_ATR,
} from '../../../firmware-sim/cards/index.ts';
import { toHex, tx } from './apdu-test-kit.ts';

describe('robustness cards', () => {
  it('blank CPU card: an MF only, proper ISO status words', () => {
    const card = createBlankCpuCard();
    expect(toHex(card.powerOn())).toBe(toHex(BLANK_CARD_ATR));
    expect(tx(card, '00A40000023F00')).toMatchObject({ data: '', sw: '9000' });
    expect(tx(card, '00A4000002DDF1').sw).toBe('6A82');
    expect(tx(card, '00A404000C575320535953204444463031'.slice(0, 34)).sw).toBe('6A82');
    expect(tx(card, '00B0000010').sw).toBe('6986');
    expect(tx(card, '00B2010400').sw).toBe('6986');
    expect(tx(card, '0084000008').sw).toBe('9000');
    expect(tx(card, `0082000411${'00'.repeat(17)}`).sw).toBe('6A88');
    expect(tx(card, '00CA9F7F00').sw).toBe('6D00');
    expect(tx(card, 'FFCA000000').sw).toBe('6E00');
  });

  it('mute card: answers reset, flags itself mute, never answers a command', () => {
    const card = createMuteCard();
    expect(card.mute).toBe(true);
    expect(card.powerOn().length).toBeGreaterThan(2);
    expect(card.process(Uint8Array.of(0x00, 0xa4, 0x00, 0x00), 1).response.length).toBe(0);
  });

  it('only-6D00 card: every command gets 6D00', () => {
    const card = createOnly6d00Card();
    card.powerOn();
    for (const apdu of ['00A40000023F00', '00B0000000', '0084000008', 'FFCA000000', '00']) expect(tx(card, apdu).sw).toBe('6D00');
  });

  it('transit card: FID DDF1 exists but is named 1PAY.SYS.DDF01, and its EF05 has misleading TLV records', () => {
    const card = createTransitCard();
    const atr = card.powerOn();
    expect(toHex(atr.subarray(12, 16))).toBe(toHex(Buffer.from('JT10')));
    const fci = tx(card, '00A4000002DDF1');
    expect(fci.sw).toBe('9000');
    expect(Buffer.from(fci.data, 'hex').includes(Buffer.from('1PAY.SYS.DDF01'))).toBe(true);
    expect(Buffer.from(fci.data, 'hex').includes(Buffer.from('WS.SYS.DDF01'))).toBe(false);
    expect(tx(card, `00A404000C${toHex(Buffer.from('WS.SYS.DDF01'))}`).sw).toBe('6A82');
    expect(tx(card, `00A404000E${toHex(Buffer.from('1PAY.SYS.DDF01'))}`).sw).toBe('9000');
    tx(card, '00A4000002EF05');
    expect(tx(card, '00B2390000').sw).toBe('9000'); // a tag-39 record exists, but it is no city code
    expect(tx(card, '00A4000002DF01').sw).toBe('6A82');
    expect(tx(card, '00A40400' + '08A000000632010105').sw).toBe('9000');
    expect(tx(card, '00A40000020015').sw).toBe('9000');
    expect(tx(card, '00B000001E').data.length).toBe(60);
  });
});
