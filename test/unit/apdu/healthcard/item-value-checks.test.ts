// Every value is checked against its item's type (data-items.ts valueType) and the photo against the
// JPEG markers before the writer sends a single APDU; errors report the real length and the maximum.
import { describe, expect, it } from 'vitest';
import { DATA_ITEMS, dataItem } from '../../../../apdu/healthcard/data-items.ts';
import { HealthCardWriter, type HealthCardWrite } from '../../../../apdu/healthcard/health-card-writer.ts';
import { isJpeg, isValidPhone } from '../../../../apdu/healthcard/validation.ts';
import { generateProfile } from '../../../../firmware-sim/personalisation/index.ts';
import { ScriptedChannel } from '../scripted-channel.ts';

/** Writes `request` on a channel that answers nothing: the writer must refuse before its first APDU. */
async function refused(request: HealthCardWrite): Promise<{ code: string; details: Record<string, unknown>; sent: number }> {
  const channel = new ScriptedChannel([]);
  const writer = new HealthCardWriter(channel, { card8: new Uint8Array(8) });
  try {
    await writer.write(request);
  } catch (e) {
    const err = e as { code: string; details: Record<string, unknown> };
    return { code: err.code, details: err.details, sent: channel.sent.length };
  }
  throw new Error('the write was not refused');
}

describe('item values are checked against their type before any APDU', () => {
  it('a 48-byte name reports length 48 and max 30 (not 30)', async () => {
    const r = await refused({ items: { 0x0b: '张'.repeat(24) } });
    expect(r).toEqual({ code: 'ITEM_VALUE_TOO_LONG', details: { itemNo: 0x0b, length: 48, max: 30 }, sent: 0 });
  });

  it('a phone with a letter is refused for every phone item (16, 17, 27, 30, 33)', async () => {
    const phones = DATA_ITEMS.filter((d) => d.valueType === 'phone').map((d) => d.itemNo);
    expect(phones).toEqual([0x10, 0x11, 0x1b, 0x1e, 0x21]);
    for (const n of phones) {
      const r = await refused({ items: { [n]: '1391234567X999' } });
      expect(r).toMatchObject({ code: 'ITEM_VALUE_INVALID', details: { itemNo: n }, sent: 0 });
    }
  });

  it('phone syntax: digits, leading +, single - or space separators', () => {
    for (const ok of ['13912345678', '010-62345678', '+86 139 1234 5678', '0755-1234567-801']) expect([ok, isValidPhone(ok)]).toEqual([ok, true]);
    for (const bad of ['1391234567X999', '139-', '-139', '139--1', '+', '', '139 1234\t5', '１３９']) expect([bad, isValidPhone(bad)]).toEqual([bad, false]);
  });

  it('every item has a type, and every synthetic profile passes its own checks', () => {
    for (const d of DATA_ITEMS) expect(['text', 'phone', 'digits', 'date', 'dateTime', 'hex', 'sex', 'ethnicity', 'idNumber', 'cityCode']).toContain(d.valueType);
    expect(dataItem(0x0f).valueType).toBe('idNumber');
    expect(dataItem(0x0e).valueType).toBe('date');
    expect(dataItem(216).valueType).toBe('dateTime');
    const writer = new HealthCardWriter(new ScriptedChannel([]), { card8: new Uint8Array(8) });
    for (let seed = 1; seed <= 20; seed++) {
      const p = generateProfile(seed);
      const visits = (list: Array<Record<number, string | null> | null> | undefined) => (list ?? []).flatMap((values, i) => (values ? [{ slot: i + 1, values }] : []));
      expect(() => writer.plan({ items: p.items, photo: p.photo ? Buffer.from(p.photo, 'base64') : null, inpatient: visits(p.inpatient), outpatient: visits(p.outpatient) })).not.toThrow();
    }
  });
});

describe('the photo must be a JPEG', () => {
  it('refuses a PNG, random bytes, and a JPEG cut short (no EOI) before any APDU', async () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const jpeg = Buffer.from(generateProfile(3).photo!, 'base64');
    for (const photo of [png, Uint8Array.from({ length: 500 }, (_, i) => i & 0xff), jpeg.subarray(0, jpeg.length - 10)]) {
      expect(await refused({ photo })).toMatchObject({ code: 'PHOTO_NOT_JPEG', details: { length: photo.length }, sent: 0 });
    }
  });

  it('refuses a photo too large for the file with its real length, and accepts a real JPEG', async () => {
    const big = new Uint8Array(4000).fill(0x20);
    big.set([0xff, 0xd8, 0xff]);
    big.set([0xff, 0xd9], big.length - 2);
    expect(await refused({ photo: big })).toMatchObject({ code: 'ITEM_VALUE_TOO_LONG', details: { length: 4000, max: 3070 }, sent: 0 });
    expect(isJpeg(Buffer.from(generateProfile(3).photo!, 'base64'))).toBe(true);
  });
});
