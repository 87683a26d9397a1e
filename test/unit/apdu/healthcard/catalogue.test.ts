import { describe, expect, it } from 'vitest';
import { DATA_ITEMS, dataItem, itemsOfFile, FIRST_INPATIENT_ITEM, FIRST_OUTPATIENT_ITEM, LAST_ITEM } from '../../../../apdu/healthcard/data-items.ts';
import {
  ELEMENTARY_FILES, KEYS, fciOf, elementaryFile, INPATIENT_DATA_LENGTH, OUTPATIENT_DATA_LENGTH, INPATIENT_FILE_SIZE, OUTPATIENT_FILE_SIZE,
  ALLERGY_RECORD_SIZE, IMMUNISATION_RECORD_SIZE, visitIndexOf,
} from '../../../../apdu/healthcard/file-map.ts';
import { hexUpper as toHex } from '../../../../common/hex.ts';

function assertTiles(file: Parameters<typeof itemsOfFile>[0], size: number): void {
  const items = itemsOfFile(file).sort((a, b) => a.offset! - b.offset!);
  let next = 0;
  for (const item of items) {
    expect(item.offset, `item ${item.itemNo} starts where the previous ends`).toBe(next);
    expect(item.length).toBeGreaterThan(0);
    next += item.length;
  }
  expect(next).toBe(size);
}

describe('data item catalogue', () => {
  it('numbers items 1–384 without gaps', () => {
    expect(DATA_ITEMS.map((d) => d.itemNo)).toEqual(Array.from({ length: LAST_ITEM }, (_, i) => i + 1));
  });

  it('has 149 inpatient (EE) and 172 outpatient (ED) fields', () => {
    expect(itemsOfFile('DF03/EE')).toHaveLength(149);
    expect(itemsOfFile('DF03/ED')).toHaveLength(172);
    expect(itemsOfFile('DF03/EE')[0].itemNo).toBe(FIRST_INPATIENT_ITEM);
    expect(itemsOfFile('DF03/ED')[0].itemNo).toBe(FIRST_OUTPATIENT_ITEM);
    expect(dataItem(212).file).toBe('DF03/EE');
    expect(dataItem(213).file).toBe('DF03/ED');
  });

  it('tiles the EE data area (1639 B) and the ED data area (3013 B) without gaps or overlaps', () => {
    assertTiles('DF03/EE', INPATIENT_DATA_LENGTH);
    assertTiles('DF03/ED', OUTPATIENT_DATA_LENGTH);
    expect(INPATIENT_FILE_SIZE).toBe(1893);
    expect(OUTPATIENT_FILE_SIZE).toBe(3267);
  });

  it('tiles the allergy (120 B) and immunisation (24 B) records', () => {
    assertTiles('DF02/EF07', ALLERGY_RECORD_SIZE);
    assertTiles('DF02/EF08', IMMUNISATION_RECORD_SIZE);
  });

  it('keeps field names camelCase and unique inside each file', () => {
    const seen = new Map<string, Set<string>>();
    for (const d of DATA_ITEMS) {
      expect(d.field).toMatch(/^[a-z][A-Za-z0-9]*$/);
      const s = seen.get(d.file) ?? new Set();
      expect(s.has(d.field), `${d.file}.${d.field}`).toBe(false);
      s.add(d.field);
      seen.set(d.file, s);
      expect(d.nameZh.length).toBeGreaterThan(0);
    }
  });

  it('matches the domain note for known TLV items', () => {
    expect(dataItem(0x0b)).toMatchObject({ field: 'name', format: 'an', length: 30, file: 'DDF1/EF06', tag: 0x0b });
    expect(dataItem(0x39)).toMatchObject({ field: 'cityCode', format: 'cn', length: 3, file: 'DDF1/EF05' });
    expect(dataItem(0x05)).toMatchObject({ format: 'b', length: 180 });
    expect(dataItem(0x07)).toMatchObject({ field: 'expiryDate', file: 'DDF1/EF08', format: 'cn', length: 4 });
    expect(dataItem(0x27)).toMatchObject({ format: 'an', length: 17 });
    expect(() => dataItem(385)).toThrow(RangeError);
  });
});

describe('file map', () => {
  it('puts every TLV item in exactly one record of its file', () => {
    for (const f of ELEMENTARY_FILES.filter((e) => e.content === 'tlv-records')) {
      const tags = itemsOfFile(f.id).map((d) => d.itemNo).sort((a, b) => a - b);
      expect([...f.recordItems!].sort((a, b) => a - b)).toEqual(tags);
      expect(f.recordCount).toBe(f.recordItems!.length);
    }
    expect(elementaryFile('DF02/EF05').recordCount).toBe(15);
  });

  it('builds the FCIs of the domain note', () => {
    expect(toHex(fciOf('DDF1'))).toBe('6F10840C' + toHex(new TextEncoder().encode('WS.SYS.DDF01')) + 'A500');
    expect(toHex(fciOf('MF'))).toBe('6F148410' + toHex(new TextEncoder().encode('jmjkkyyhj')) + '00000000000000A500');
    expect(toHex(fciOf('DF02'))).toBe('6F0884069156000132' + '01');
  });

  it('follows the key table of HEALTHCARD-SECURITY.md', () => {
    expect(KEYS.RK_DDF1).toMatchObject({ cardRef: 0x04, sam: [0x47, 0x31], derivation: 'two-level' });
    expect(KEYS.UK_DF03_2).toMatchObject({ cardRef: 0x86, sam: [0x27, 0x30], derivation: 'one-level' });
    expect(KEYS.STK_DF02).toMatchObject({ sam: [0x48, 0x04], derivation: 'two-level' });
    expect(elementaryFile('DF02/EF08').updateKey).toBe('UK_DF02_3');
    expect(elementaryFile('DF03/ED04').updateKey).toBe('UK_DF03_2');
    expect(elementaryFile('DDF1/EF05').readKey).toBe('free');
    expect(visitIndexOf('DF03/ED04')).toEqual({ indexFile: 'DF03/EF06', record: 4 });
  });
});
