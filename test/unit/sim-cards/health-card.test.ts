import { beforeEach, describe, expect, it } from 'vitest';
import { decodeValue } from '../../../apdu/healthcard/codecs.ts';
import { dataItem } from '../../../apdu/healthcard/data-items.ts';
import { ELEMENTARY_FILES, KEYS, TLV_ITEM_LENGTHS, type KeyName } from '../../../apdu/healthcard/file-map.ts';
import { createHealthCard, createSam, loadProfile, type SimHealthCard, type SimSam, type HealthCardProfile } from '../../../firmware-sim/cards/index.ts';
import { authenticateWithSam, hex, toHex, tx } from './apdu-test-kit.ts';

const beijing = loadProfile(new URL('../../fixtures/profiles/beijing.json', import.meta.url).pathname);
const guangdong = loadProfile(new URL('../../fixtures/profiles/guangdong.json', import.meta.url).pathname);

const DF_FID: Record<string, string> = { DDF1: 'DDF1', DF01: 'DF01', DF02: 'DF02', DF03: 'DF03' };

describe('the simulated Resident Health Card', () => {
  let card: SimHealthCard;
  let sam: SimSam;
  let atr: Uint8Array;

  const auth = (name: KeyName, profile: HealthCardProfile = beijing): string =>
    authenticateWithSam(card, sam, KEYS[name].sam, KEYS[name].cardRef!, atr, profile.items[57] as string);
  const selectPath = (...fids: string[]): void => {
    for (const f of fids) expect(tx(card, `00A4000002${f}`).sw, f).toBe('9000');
  };

  beforeEach(() => {
    card = createHealthCard(beijing);
    atr = card.powerOn();
    sam = createSam({ province: '11' });
    sam.powerOn();
    expect(tx(sam, '0020000003123456', 0).sw).toBe('9000');
  });

  it('answers reset with 3B 9C 96 80 01 ‖ card8 ‖ "WS10" ‖ TCK: TA1 = 96 (Fi 512, Di 32), T=0 and T=1', () => {
    expect(toHex(atr)).toMatch(new RegExp(`^3B9C968001${beijing.card8.toUpperCase()}57533130[0-9A-F]{2}$`));
    expect(atr.length).toBe(18);
    expect(atr.subarray(1).reduce((a, b) => a ^ b, 0)).toBe(0); // TCK makes T0..TCK XOR to zero
    expect(card.protocols).toEqual([0, 1]);
    expect(toHex(card.reset())).toBe(toHex(atr));
  });

  it('SELECT answers the exact FCIs of MF, DDF1 and DF01–DF03, and bare 9000 for EFs', () => {
    expect(tx(card, '00A40000023F00')).toEqual({ data: '6F1484106A6D6A6B6B7979686A00000000000000A500', sw: '9000', kind: 'select' });
    expect(tx(card, '00A4000002DDF1').data).toBe('6F10840C57532E5359532E4444463031A500');
    expect(tx(card, '00A4000002DF01').data).toBe('6F08840691560001320' + '0');
    expect(tx(card, '00A4000002DF02').data).toBe('6F0884069156000132' + '01'); // sibling of DF01
    expect(tx(card, '00A4000002DF03').data).toBe('6F0884069156000132' + '02');
    expect(tx(card, '00A4000002EF05')).toEqual({ data: '', sw: '9000', kind: 'select' });
    expect(tx(card, '00A4000002EE01').sw).toBe('9000');
    expect(tx(card, '00A404000C' + toHex(Buffer.from('WS.SYS.DDF01'))).data).toBe('6F10840C57532E5359532E4444463031A500');
    expect(tx(card, '00A4040006915600013201').data).toBe('6F08840691560001320' + '1');
    expect(tx(card, '00A40400101' + '').sw).toBe('6700');
    expect(tx(card, '00A4000002EF09').sw).toBe('6A82');
    // Over T=0 an FCI is announced with 61xx and fetched with GET RESPONSE.
    expect(tx(card, '00A4000002DDF1', 0).sw).toBe('6112');
    expect(tx(card, '00C0000012', 0).data).toBe('6F10840C57532E5359532E4444463031A500');
  });

  it('DDF1/EF05 reads freely, by tag (P2 00) and by record number (P2 04), every record at its full length', () => {
    selectPath('DDF1', 'EF05');
    expect(tx(card, '00B2390000')).toEqual({ data: '3903110100', sw: '9000', kind: 'read' });
    expect(tx(card, '00B2010400').data).toBe('010131'); // card type "1"
    expect(tx(card, '00B2020400').data).toBe('020430303032'); // "0002"
    const r3 = tx(card, '00B2030400').data;
    expect(r3.length / 2).toBe(32);
    expect(decodeValue('an', hex(r3).subarray(2), 3)).toBe(beijing.items[3]);
    expect(tx(card, '00B20B0000').sw).toBe('6A83'); // tag 0B lives in EF06
    expect(tx(card, '00B20B0400').sw).toBe('6A83'); // only 10 records
  });

  it('T=0 case 2: Le 00 gets 6Cxx with the record length, the exact Le gets the data', () => {
    selectPath('DDF1', 'EF05');
    expect(tx(card, '00B2390000', 0).sw).toBe('6C05');
    expect(tx(card, '00B2390005', 0)).toMatchObject({ data: '3903110100', sw: '9000' });
    expect(tx(card, '00B2390004', 0).sw).toBe('6C05');
    expect(tx(card, '0084000004', 0).sw).toBe('6C08');
  });

  it('EF06–EF08 need RK_DDF1; after it the cardholder data decodes to the profile values', () => {
    selectPath('DDF1', 'EF06');
    expect(tx(card, '00B20B0000').sw).toBe('6982');
    expect(auth('RK_DDF1')).toBe('9000');
    const name = hex(tx(card, '00B20B0000').data);
    expect(name.length).toBe(32);
    expect(decodeValue('an', name.subarray(2), 11)).toBe(beijing.items[11]);
    expect(decodeValue('an', hex(tx(card, '00B20F0000').data).subarray(2), 15)).toBe(beijing.items[15]);
    expect(decodeValue('cn', hex(tx(card, '00B20E0000').data).subarray(2), 14)).toBe(beijing.items[14]);
    selectPath('EF08');
    expect(tx(card, '00B2070000').sw).toBe('9000'); // security state holds inside DDF1
  });

  it('every TLV record of every file has its tag and full fixed length; unwritten values read FF', () => {
    const dfKeys: Record<string, KeyName> = { DDF1: 'RK_DDF1', DF01: 'RK_DF01', DF02: 'RK_DF02', DF03: 'RK_DF03' };
    for (const spec of ELEMENTARY_FILES.filter((f) => f.content === 'tlv-records')) {
      card.powerOn();
      selectPath('DDF1');
      if (spec.df !== 'DDF1') selectPath(DF_FID[spec.df]);
      expect(auth(dfKeys[spec.df])).toBe('9000');
      selectPath(spec.fid.toString(16).toUpperCase());
      spec.recordItems!.forEach((tag, i) => {
        const rec = hex(tx(card, `00B2${(i + 1).toString(16).padStart(2, '0')}0400`).data);
        expect(rec[0], `${spec.id} record ${i + 1}`).toBe(tag);
        expect(rec[1]).toBe(TLV_ITEM_LENGTHS[tag]);
        expect(rec.length).toBe(TLV_ITEM_LENGTHS[tag] + 2);
        const expected = beijing.items[tag] ?? null;
        const item = dataItem(tag);
        if (expected === null) expect(rec.subarray(2).every((b) => b === 0xff)).toBe(true);
        else expect(decodeValue(item.format, rec.subarray(2), tag)).toBe(expected);
      });
    }
  });

  it('the photo EF07: 3072 bytes, 2-byte length then the JPEG, read in 0x80 chunks or one extended read', () => {
    selectPath('DDF1', 'EF07');
    expect(tx(card, '00B0000080').sw).toBe('6982');
    expect(auth('RK_DDF1')).toBe('9000');
    const photo = Buffer.from(beijing.photo!, 'base64');
    const chunks: string[] = [];
    for (let off = 0; off < photo.length + 2; off += 0x80) {
      const r = tx(card, `00B0${off.toString(16).padStart(4, '0')}80`);
      expect(r.sw).toBe('9000');
      chunks.push(r.data);
    }
    const read = hex(chunks.join(''));
    expect((read[0] << 8) | read[1]).toBe(photo.length);
    expect(toHex(read.subarray(2, 2 + photo.length))).toBe(toHex(photo));
    expect(read.subarray(2, 4)).toEqual(Uint8Array.of(0xff, 0xd8)); // JPEG SOI
    expect(tx(card, '00B00C0001').sw).toBe('6B00'); // offset 3072
    expect(tx(card, '00B00BFF00').data).toBe('FF');
    expect(tx(card, '00B00000000000').data.length / 2).toBe(3072);
  });

  it('DF02: allergies and immunisations are cyclic records, newest first, unwritten FF', () => {
    selectPath('DDF1', 'DF02', 'EF07');
    expect(auth('RK_DF02')).toBe('9000');
    const allergies = beijing.allergies ?? [];
    for (let i = 0; i < 3; i++) {
      const rec = hex(tx(card, `00B2${(i + 1).toString(16).padStart(2, '0')}0478`).data);
      expect(rec.length).toBe(120);
      if (i < allergies.length) {
        expect(decodeValue('an', rec.subarray(0, 20), 58)).toBe(allergies[i][58]);
        expect(decodeValue('an', rec.subarray(20), 59)).toBe(allergies[i][59]);
      } else expect(rec.every((b) => b === 0xff)).toBe(true);
    }
    selectPath('EF08');
    const shots = beijing.immunisations ?? [];
    const first = hex(tx(card, '00B2010418').data);
    expect(decodeValue('an', first.subarray(0, 20), 60)).toBe(shots[0][60]);
    expect(decodeValue('cn', first.subarray(20), 61)).toBe(shots[0][61]);
    expect(tx(card, '00B20B0418').sw).toBe('6A83'); // 10 records
  });

  it('DF03: index flags mark the written visit files; EE/ED files have their real sizes', () => {
    selectPath('DDF1', 'DF03', 'EF05');
    expect(auth('RK_DF03')).toBe('9000');
    const inpatient = beijing.inpatient ?? [];
    for (let i = 0; i < 3; i++) expect(tx(card, `00B2${(i + 1).toString(16).padStart(2, '0')}0401`).data).toBe(inpatient[i] ? '00' : 'FF');
    selectPath('EF06');
    const outpatient = beijing.outpatient ?? [];
    for (let i = 0; i < 5; i++) expect(tx(card, `00B2${(i + 1).toString(16).padStart(2, '0')}0401`).data).toBe(outpatient[i] ? '00' : 'FF');
    selectPath('EE01');
    expect(tx(card, '00B0076501').sw).toBe('6B00'); // offset 1893 = size
    expect(tx(card, '00B0076401').sw).toBe('9000'); // the last byte
    const head = hex(tx(card, '00B0000046').data);
    if (inpatient[0]) expect(decodeValue('an', head, 64)).toBe(inpatient[0][64]);
    selectPath('ED05');
    expect(tx(card, '00B00CC301').sw).toBe('6B00'); // offset 3267 = size
    expect(tx(card, '00B00CC201').sw).toBe('9000');
  });

  it('another province SAM gets 63Cx; the counter runs down to 6983 and a good authentication resets it', () => {
    const gdSam = createSam({ province: '44' });
    gdSam.powerOn();
    tx(gdSam, '0020000003123456', 0);
    selectPath('DDF1', 'EF06');
    const gdAuth = (): string => authenticateWithSam(card, gdSam, KEYS.RK_DDF1.sam, 0x04, atr, '440100');
    expect(gdAuth()).toBe('63CE');
    expect(gdAuth()).toBe('63CD');
    expect(auth('RK_DDF1')).toBe('9000');
    expect(card.triesLeft('RK_DDF1')).toBe(15);
    for (let left = 14; left >= 0; left--) expect(gdAuth()).toBe(`63C${left.toString(16).toUpperCase()}`);
    expect(auth('RK_DDF1')).toBe('6983');
    expect(tx(card, '00B20B0000').sw).toBe('6982');
    // Another key of the same DF is unaffected.
    expect(auth('UK_DDF1')).toBe('9000');
  });

  it('a one-level key (UK_DDF1) authenticates with any province SAM; a Guangdong card works with a Guangdong SAM', () => {
    const gdSam = createSam({ province: '44' });
    gdSam.powerOn();
    tx(gdSam, '0020000003123456', 0);
    selectPath('DDF1');
    expect(authenticateWithSam(card, gdSam, KEYS.UK_DDF1.sam, 0x05, atr, '440100')).toBe('9000');
    card = createHealthCard(guangdong);
    atr = card.powerOn();
    selectPath('DDF1');
    expect(authenticateWithSam(card, gdSam, KEYS.RK_DDF1.sam, 0x04, atr, '440100')).toBe('9000');
    expect(auth('RK_DDF1', guangdong)).toBe('63CE'); // the Beijing SAM
  });

  it('a profile can personalise blocked keys or reduced counters', () => {
    card = createHealthCard({ ...beijing, keysBlocked: ['RK_DF01'], keyTries: { RK_DDF1: 1 } });
    atr = card.powerOn();
    selectPath('DDF1', 'DF01');
    expect(auth('RK_DF01')).toBe('6983');
    selectPath('DDF1');
    const gdSam = createSam({ province: '44' });
    gdSam.powerOn();
    tx(gdSam, '0020000003123456', 0);
    expect(authenticateWithSam(card, gdSam, KEYS.RK_DDF1.sam, 0x04, atr, '440100')).toBe('63C0');
    expect(auth('RK_DDF1')).toBe('6983');
  });

  it('UPDATE BINARY of the photo needs UK_DDF1 (05); RK alone is not enough', () => {
    selectPath('DDF1', 'EF07');
    expect(auth('RK_DDF1')).toBe('9000');
    expect(tx(card, '00D6000002ABCD').sw).toBe('6982');
    expect(auth('UK_DDF1')).toBe('9000');
    expect(tx(card, '00D6000002ABCD')).toMatchObject({ sw: '9000', kind: 'write' });
    expect(tx(card, '00B0000002').data).toBe('ABCD');
    expect(tx(card, '00D60BFF02ABCD').sw).toBe('6700');
  });

  it('index flags: 84 D2 sets 00, 84 0C erases to FF, after the file\'s update key', () => {
    selectPath('DDF1', 'DF03', 'EF06');
    expect(auth('RK_DF03')).toBe('9000');
    expect(tx(card, '84D2050401' + '00').sw).toBe('6982');
    expect(auth('UK_DF03_1')).toBe('9000'); // the inpatient key does not open the outpatient index
    expect(tx(card, '84D20504010' + '0').sw).toBe('6982');
    expect(auth('UK_DF03_2')).toBe('9000');
    expect(tx(card, '84D2050401' + '00')).toMatchObject({ sw: '9000', kind: 'write' });
    expect(tx(card, '00B2050401').data).toBe('00');
    expect(tx(card, '840C050400').sw).toBe('9000');
    expect(tx(card, '00B2050401').data).toBe('FF');
    expect(tx(card, '840C0504').sw).toBe('9000');
    expect(tx(card, '84D2060401' + '00').sw).toBe('6A83');
    expect(tx(card, '84D2050401' + '01').sw).toBe('6A80');
    expect(tx(card, '84D2050301' + '00').sw).toBe('6A86');
    selectPath('ED01');
    expect(tx(card, '84D2010401' + '00').sw).toBe('6981');
    expect(tx(card, '00D2010401' + '00').sw).toBe('6E00');
  });

  it('allergies: a cyclic append (00 DC 00 03) after UK_DF02_2 becomes record 1', () => {
    selectPath('DDF1', 'DF02', 'EF07');
    expect(auth('RK_DF02')).toBe('9000');
    const rec = new Uint8Array(120).fill(0);
    rec.set(Buffer.from('TEST'));
    expect(tx(card, `00DC000378${toHex(rec)}`).sw).toBe('6982');
    expect(auth('UK_DF02_3')).toBe('9000'); // the immunisation key
    expect(tx(card, `00DC000378${toHex(rec)}`).sw).toBe('6982');
    expect(auth('UK_DF02_2')).toBe('9000');
    const before = tx(card, '00B2010478').data;
    expect(tx(card, `00DC000378${toHex(rec)}`).sw).toBe('9000');
    expect(tx(card, '00B2010478').data).toBe(toHex(rec));
    expect(tx(card, '00B2020478').data).toBe(before);
  });

  it('reports a command kind per answer for the timing model', () => {
    expect(tx(card, '00A4000002DDF1').kind).toBe('select');
    expect(tx(card, '0084000008').kind).toBe('crypto');
    expect(tx(card, '00A4000002EF05').kind).toBe('select');
    expect(tx(card, '00B2010400').kind).toBe('read');
    expect(tx(card, '00CA000000').kind).toBe('other');
  });
});
