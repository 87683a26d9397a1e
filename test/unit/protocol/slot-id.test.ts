// The one slot grammar (protocol/slot-id.ts): known answers, what it refuses, and that the JSON
// Schema pattern the API uses accepts exactly the texts parseSlotId reads as a slot id.
import { describe, expect, it } from 'vitest';
import { parseSlotId, SLOT_ID_PATTERN, slotIdText } from '../../../protocol/slot-id.ts';

describe('parseSlotId', () => {
  it('reads decimal, hex and samN', () => {
    const cases: Array<[string, number]> = [['1', 0x01], ['2', 0x02], ['01', 1], ['17', 0x11], ['0', 0], ['255', 255], ['0x11', 0x11], ['0X1f', 0x1f], ['0xff', 255], ['0x1', 1], ['sam1', 0x11], ['SAM4', 0x14], ['sam9', 0x19]];
    for (const [text, slot] of cases) expect(parseSlotId(text), text).toBe(slot);
  });

  it('writes an id the way it reads it back', () => {
    expect([0x01, 0x02, 0x11, 0xff].map(slotIdText)).toEqual(['0x01', '0x02', '0x11', '0xff']);
    for (let slot = 0; slot <= 255; slot++) expect(parseSlotId(slotIdText(slot))).toBe(slot);
  });

  it('refuses everything else', () => {
    for (const text of ['', ' 1', '1 ', '256', '999', '1000', '-1', '+1', '1.0', '1e1', '0x', '0x100', '0xg', 'sam', 'sam0', 'sam10', 'sam 1', 'x11', '0b1', '١']) {
      expect(parseSlotId(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('the API pattern accepts exactly what the parser reads (every 1–4 character text over its alphabet)', () => {
    const pattern = new RegExp(SLOT_ID_PATTERN);
    const alphabet = ['0', '1', '2', '5', '9', 'x', 'X', 'f', 'g', 's', 'a', 'm', 'S', 'A', 'M', ' '];
    let texts = [''];
    let checked = 0;
    for (let length = 1; length <= 4; length++) {
      texts = texts.flatMap((t) => alphabet.map((c) => t + c));
      for (const t of texts) {
        const slot = parseSlotId(t);
        expect(slot !== undefined, t).toBe(pattern.test(t));
        if (slot !== undefined) expect(Number.isInteger(slot) && slot >= 0 && slot <= 255, t).toBe(true);
        // Decimal texts: up to three digits saying 0–255, and the number they say.
        if (/^\d+$/.test(t)) expect(slot, t).toBe(t.length <= 3 && Number(t) <= 255 ? Number(t) : undefined);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60_000);
  });
});
