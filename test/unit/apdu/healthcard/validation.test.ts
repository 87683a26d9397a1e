import { describe, expect, it } from 'vitest';
import { idCheckCharacter, isValidIdNumber, isCityCodeShape, isValidDate, isValidDateTime, isValidSexCode, provinceOf } from '../../../../apdu/healthcard/validation.ts';
import { checkItemValue, prepareValue } from '../../../../apdu/healthcard/health-card-writer.ts';
import { dataItem } from '../../../../apdu/healthcard/data-items.ts';

describe('GB 11643 ID numbers (ISO 7064 MOD 11-2)', () => {
  it('computes the check character of the standard examples', () => {
    expect(idCheckCharacter('11010519491231002')).toBe('X');
    expect(idCheckCharacter('44052418800101001')).toBe('4');
    expect(isValidIdNumber('11010519491231002X')).toBe(true);
    expect(isValidIdNumber('440524188001010014')).toBe(true);
  });
  it('rejects wrong check digits, dates, shapes and division codes', () => {
    expect(isValidIdNumber('110105194912310021')).toBe(false);
    expect(isValidIdNumber('11010519491331002X')).toBe(false);
    expect(isValidIdNumber('11010519491231002x')).toBe(false);
    expect(isValidIdNumber('1101051949123100')).toBe(false);
    expect(isValidIdNumber('990105194912310020')).toBe(false);
    expect(() => idCheckCharacter('123')).toThrow(RangeError);
  });
});

describe('dates, city codes, sex codes', () => {
  it('checks calendar dates including leap years', () => {
    expect(isValidDate('20240229')).toBe(true);
    expect(isValidDate('20230229')).toBe(false);
    expect(isValidDate('20231301')).toBe(false);
    expect(isValidDate('17991231')).toBe(false);
    expect(isValidDateTime('20240229235959')).toBe(true);
    expect(isValidDateTime('20240229240000')).toBe(false);
  });
  it('checks the GB/T 2260 shape and the province', () => {
    expect(isCityCodeShape('110101')).toBe(true);
    expect(isCityCodeShape('820000')).toBe(true);
    expect(isCityCodeShape('100101')).toBe(false);
    expect(isCityCodeShape('11010')).toBe(false);
    expect(provinceOf('440300')).toBe('44');
  });
  it('knows GB/T 2261.1 sex codes', () => {
    expect(['00', '01', '02', '09'].every(isValidSexCode)).toBe(true);
    expect(isValidSexCode('03')).toBe(false);
  });
  it('the writer applies the checks per item and names the item', () => {
    expect(checkItemValue(dataItem(0x0d), '57')).toMatch(/ethnicity/);
    expect(checkItemValue(dataItem(0x0d), '01')).toBeUndefined();
    expect(checkItemValue(dataItem(0x39), '110101')).toBeUndefined();
    expect(checkItemValue(dataItem(61), '20241301')).toMatch(/date/);
    expect(checkItemValue(dataItem(64 + 7), '20240101120000')).toBeUndefined(); // admissionDateTime cn7
    expect(() => prepareValue(dataItem(0x0c), '07')).toThrow(expect.objectContaining({ code: 'ITEM_VALUE_INVALID', details: { itemNo: 12 } }));
    expect(prepareValue(dataItem(0x0c), null)).toEqual(Uint8Array.of(0xff));
  });
});
