import { beforeEach, describe, expect, it } from 'vitest';
import { createSam, SAM_ATR, type SimSam } from '../../../firmware-sim/cards/index.ts';
import { HOST_CONSTANT, hex, reference, refSm4Ecb, samCommand, toHex, tx } from './apdu-test-kit.ts';

const CARD8 = hex('0102030405060708');
const R = hex('A1A2A3A4A5A6A7A8');

describe('the simulated SAM', () => {
  let sam: SimSam;
  beforeEach(() => {
    sam = createSam({ province: '11' });
    sam.powerOn();
  });

  it('is T=0 only with its own ATR', () => {
    expect(sam.protocols).toEqual([0]);
    expect(toHex(sam.powerOn())).toBe(toHex(SAM_ATR));
    expect(toHex(SAM_ATR)).toBe('3B0859494B4153414D31');
  });

  it('PIN: 123456 in BCD, 63Cx countdown from 3, then 6983; a good PIN resets the counter', () => {
    expect(tx(sam, '00200000', 0).sw).toBe('63C3'); // status query
    expect(tx(sam, '0020000003123457', 0)).toMatchObject({ sw: '63C2', kind: 'crypto' });
    expect(tx(sam, '0020000003123456', 0).sw).toBe('9000');
    expect(tx(sam, '00200000', 0).sw).toBe('9000');
    expect(sam.pinTriesLeft).toBe(3);
    expect(tx(sam, '0020000003000000', 0).sw).toBe('63C2');
    expect(tx(sam, '0020000003000000', 0).sw).toBe('63C1');
    expect(tx(sam, '0020000003000000', 0).sw).toBe('6983');
    expect(tx(sam, '0020000003123456', 0).sw).toBe('6983');
    sam.powerOff();
    sam.powerOn();
    expect(tx(sam, '0020000003123456', 0).sw).toBe('6983'); // the counter survives power-off
  });

  it('PIN command errors: wrong P1P2, wrong length', () => {
    expect(tx(sam, '0020000103123456', 0).sw).toBe('6A86');
    expect(tx(sam, '002000000112', 0).sw).toBe('6700');
    expect(tx(sam, '00200000071234567890ABCD', 0).sw).toBe('6700');
  });

  it('CHANGE PIN 80 5E: old ‖ FF ‖ new; the old PIN then fails', () => {
    expect(tx(sam, '805E000007123456FF654321', 0).sw).toBe('9000');
    sam.powerOff();
    sam.powerOn();
    expect(tx(sam, '0020000003123456', 0).sw).toBe('63C2');
    expect(tx(sam, '0020000003654321', 0).sw).toBe('9000');
    expect(tx(sam, '805E000007111111FF222222', 0).sw).toBe('63C2');
    expect(tx(sam, '805E000003123456', 0).sw).toBe('6A80');
    expect(tx(sam, '805E000007654321FFAB2222', 0).sw).toBe('6A80'); // not BCD
  });

  it('a configured PIN is honoured', () => {
    const other = createSam({ pin: '8888', province: '44' });
    other.powerOn();
    expect(tx(other, '00200000021234', 0).sw).toBe('63C2');
    expect(tx(other, '00200000028888', 0).sw).toBe('9000');
  });

  it('80 DE needs the PIN (6982), a known key index (6A88) and the right Lc (6700)', () => {
    const body = `${toHex(CARD8)}${toHex(reference.city8('11'))}${toHex(R)}`;
    expect(tx(sam, `80DE473118${body}`, 0).sw).toBe('6982');
    tx(sam, '0020000003123456', 0);
    expect(tx(sam, `80DE473918${body}`, 0).sw).toBe('6A88');
    expect(tx(sam, `80DE993118${body}`, 0).sw).toBe('6A88');
    expect(tx(sam, `80DE473110${toHex(CARD8)}${toHex(R)}`, 0).sw).toBe('6700'); // two-level needs 18
    expect(tx(sam, `80DE272A18${body}`, 0).sw).toBe('6700'); // one-level needs 10
    expect(tx(sam, `80DE473118${body}`, 0)).toMatchObject({ sw: '9000', kind: 'crypto' });
  });

  it('80 FA without a session is 6985; with one it encrypts (61 10) and MACs (61 04) like the doc says', () => {
    tx(sam, '0020000003123456', 0);
    expect(tx(sam, `80FA000010${'00'.repeat(16)}`, 0).sw).toBe('6985');
    tx(sam, `80DE473118${toHex(CARD8)}${toHex(reference.city8('11'))}${toHex(R)}`, 0);
    const kcard = reference.cardKey(0x47, 0x31, CARD8, '11');
    const sk = reference.sessionKeys(kcard, R);
    const plain = `${toHex(HOST_CONSTANT)}0000000000000000`;
    expect(tx(sam, `80FA000010${plain}`, 0).sw).toBe('6110');
    const c = tx(sam, '00C0000010', 0);
    expect(c.data).toBe(toHex(refSm4Ecb(sk.enc, hex(plain))));
    const macData = hex('04DC010414' + 'AB'.repeat(16));
    expect(tx(sam, `80FA0500${macData.length.toString(16)}${toHex(macData)}`, 0).sw).toBe('6104');
    expect(tx(sam, '00C0000004', 0).data).toBe(toHex(reference.mac4(sk.mac, macData)));
    expect(tx(sam, '80FA000003010203', 0).sw).toBe('6700');
    expect(tx(sam, '80FA010004AABBCCDD', 0).sw).toBe('6A86');
    sam.powerOff();
    sam.powerOn();
    tx(sam, '0020000003123456', 0);
    expect(tx(sam, `80FA000010${plain}`, 0).sw).toBe('6985'); // the session died with the power
  });

  it('a one-level index (27 2A) uses card8 only', () => {
    tx(sam, '0020000003123456', 0);
    expect(tx(sam, `80DE272A10${toHex(CARD8)}${toHex(R)}`, 0).sw).toBe('9000');
    const sk = reference.sessionKeys(reference.cardKey(0x27, 0x2a, CARD8, '11'), R);
    expect(samCommand(sam, `80FA000010${'11'.repeat(16)}`).data).toBe(toHex(refSm4Ecb(sk.enc, hex('11'.repeat(16)))));
  });

  it('its files: EF0015 (14 B), EF0016 (6 B), DF01 with EF001A (25 B), EF001B (180 B), EF001C (190 B); 6Cxx on a wrong Le', () => {
    expect(tx(sam, '00A40000023F00', 0).sw).toMatch(/^61/);
    expect(tx(sam, '00A40000020015', 0).sw).toBe('9000');
    expect(tx(sam, '00B0000000', 0).sw).toBe('6C0E');
    expect(tx(sam, '00B000000E', 0)).toMatchObject({ sw: '9000', kind: 'read' });
    expect(tx(sam, '00A40000020016', 0).sw).toBe('9000');
    expect(tx(sam, '00B0000006', 0).data).toBe('000000000001');
    expect(tx(sam, '00A4000002DF01', 0).sw).toMatch(/^61/);
    for (const [fid, size] of [['001A', 25], ['001B', 180], ['001C', 190]] as const) {
      expect(tx(sam, `00A4000002${fid}`, 0).sw).toBe('9000');
      expect(tx(sam, '00B0000000', 0).sw).toBe(`6C${size.toString(16).toUpperCase().padStart(2, '0')}`);
      expect(tx(sam, `00B00000${size.toString(16).padStart(2, '0')}`, 0).data.length).toBe(size * 2);
    }
    expect(tx(sam, '00A40000020099', 0).sw).toBe('6A82');
    expect(tx(sam, '00B2010400', 0).sw).toBe('6D00');
  });
});
