// The front-desk page's cardholder fields (daemon/web/page/holder.ts, plain functions, no DOM): what
// it takes from a health-card read and how it writes each field. Known answers; the page itself is
// tested in Chromium (test/e2e/front-desk.test.ts).
import { describe, expect, it } from 'vitest';
import type { HealthCardRead } from '../../../daemon/client/api-types.ts';
import { dateText, extractHolder, maskId, photoUrl, sexText } from '../../../daemon/web/page/holder.ts';

function read(files: HealthCardRead['files']): HealthCardRead {
  return { readerId: 'sim-1', slot: 1, atr: '3B', readAt: '2026-01-01T00:00:00Z', durationMs: 1, apdus: 1, roundTrips: 1, card: { card8: null, cityCode: null }, files };
}

const EF05: HealthCardRead['files'][string] = {
  kind: 'tlv',
  file: 'DDF1/EF05',
  nameZh: '卡识别信息',
  items: [
    { itemNo: 8, field: 'cardNumber', nameZh: '卡号', value: '110105194912310021' },
    { itemNo: 10, field: 'issuerName', nameZh: '发卡机构名称', value: '北京市卫生健康委员会' },
  ],
};

describe('desk page: the cardholder from a read', () => {
  it('takes fields from decoded items and from field maps, the photo from EF07', () => {
    const h = extractHolder(
      read({
        'DDF1/EF05': EF05,
        'DDF1/EF06': { kind: 'tlv', file: 'DDF1/EF06', nameZh: '持卡人基本信息', fields: { name: '王小明', sex: '1', birthDate: '19491231', idNumber: '11010519491231002X' } },
        'DDF1/EF07': { kind: 'photo', file: 'DDF1/EF07', nameZh: '照片', length: 3, base64: '/9j/' },
      }),
    );
    expect(h).toEqual({ name: '王小明', sex: '1', birthDate: '19491231', idNumber: '11010519491231002X', cardNumber: '110105194912310021', issuer: '北京市卫生健康委员会', photo: '/9j/' });
  });

  it('a partial read (card file only) has a card number and no ID number; an unwritten item is null', () => {
    const h = extractHolder(read({ 'DDF1/EF05': { ...EF05, items: [{ itemNo: 8, field: 'cardNumber', nameZh: '卡号', value: null }] } }));
    expect(h.idNumber).toBeNull();
    expect(h.cardNumber).toBeNull();
    expect(h.photo).toBeNull();
    expect(extractHolder(read({ 'DDF1/EF05': EF05 })).cardNumber).toBe('110105194912310021');
  });

  it('turns a hex JPEG into base64 and gives a data: URL of the right type', () => {
    const h = extractHolder(read({ 'DDF1/EF07': { kind: 'photo', file: 'DDF1/EF07', nameZh: '照片', base64: null, photo: 'FFD8FFE0' } as never }));
    expect(h.photo).toBe(Buffer.from('FFD8FFE0', 'hex').toString('base64'));
    expect(photoUrl(h.photo!)).toBe('data:image/jpeg;base64,/9j/4A==');
    expect(photoUrl('iVBORw0KGgo=')).toBe('data:image/png;base64,iVBORw0KGgo=');
  });
});

describe('desk page: how fields are written', () => {
  it('masks ID and card numbers but the first 6 and last 4 characters', () => {
    expect(maskId('11010519491231002X')).toBe('110105********002X');
    expect(maskId('123456789')).toBe('*********');
    expect(maskId(null)).toBe('—');
  });

  it('writes dates as 1949-12-31 and sex codes in words', () => {
    expect(dateText('19491231')).toBe('1949-12-31');
    expect(dateText('1949')).toBe('1949');
    expect(dateText(null)).toBe('—');
    expect([sexText('0'), sexText('1'), sexText('2'), sexText('9'), sexText('7'), sexText(null)]).toEqual(['未知', '男', '女', '未说明', '7', '—']);
  });
});
