// The property of issue 14: every character the writer accepts reads back identical, through the card.
// Every accepted code point of Unicode (found by trying them all, not from the codec's own table) is
// written with the host HealthCardWriter (SAM-authorized, secure messaging) into the simulated card's
// address items (DF01/EF05 items 22 and 24 = tags 16 and 18, an100 = 50 two-byte characters each) and read back with
// the HealthCardReader; the corpus of rare name characters goes through item 11 (the name) itself.
import { describe, expect, it } from 'vitest';
import type { CardChannel } from '../../../apdu/card-channel.ts';
import { runBatchSequentially } from '../../../apdu/batch.ts';
import { HealthCardReader } from '../../../apdu/healthcard/health-card-reader.ts';
import { HealthCardWriter } from '../../../apdu/healthcard/health-card-writer.ts';
import { SamAuthorizer } from '../../../apdu/healthcard/sam-authorizer.ts';
import { isCardText } from '../../../apdu/healthcard/gb18030-text.ts';
import { createHealthCard, createSam } from '../../../firmware-sim/cards/index.ts';
import { generateProfile } from '../../../firmware-sim/personalisation/index.ts';
import type { SimCard } from '../../../firmware-sim/sim-card.ts';
import { corpusNames } from '../../fixtures/names/rare-name-characters.ts';

function channel(card: SimCard): CardChannel {
  const transmit: CardChannel['transmit'] = async (c) => card.process(c, 1).response;
  return { transmit, transmitBatch: async (cmds) => runBatchSequentially({ transmit }, cmds) };
}

function setUp(seed: number) {
  const profile = generateProfile(seed);
  const card = createHealthCard(profile);
  const atr = card.powerOn();
  const sam = createSam({ province: profile.items[0x39]!.slice(0, 2) });
  sam.powerOn();
  const samChannel: CardChannel = { transmit: async (c) => sam.process(c, 0).response };
  const authorizer = new SamAuthorizer(samChannel, { pin: '123456' });
  return {
    writer: new HealthCardWriter(channel(card), { atr, authorizer }),
    reader: new HealthCardReader(channel(card), { atr, authorizer }),
  };
}

/**
 * Every code point the writer accepts, by asking the writer's codec about each one of the BMP (the
 * codec's unit test shows no supplementary code point is accepted).
 */
function acceptedCharacters(): string[] {
  const out: string[] = [];
  for (let cp = 1; cp <= 0xffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    if (isCardText(ch)) out.push(ch);
  }
  return out;
}

describe('text round trip through the simulated card', () => {
  it('every accepted character (all 22,018) reads back identical from items 22 and 24 (addresses)', async () => {
    const chars = acceptedCharacters();
    expect(chars.length).toBe(22018);
    const { writer, reader } = setUp(5);
    const wrong: string[] = [];
    // Two-byte characters fill 50 per an100 item; ASCII ones are grouped with them (the field is bytes).
    const chunks: string[] = [];
    let current = '';
    let size = 0;
    for (const ch of chars) {
      const n = ch.codePointAt(0)! < 0x80 ? 1 : 2;
      if (size + n > 100) { chunks.push(current); current = ''; size = 0; }
      current += ch; size += n;
    }
    if (current) chunks.push(current);
    for (let i = 0; i < chunks.length; i += 2) {
      const a = chunks[i];
      const b = chunks[i + 1] ?? '';
      await writer.write({ items: { 22: a, 24: b } });
      const read = await reader.readItems([22, 24]);
      const [ra, rb] = read.items.map((it) => it.value ?? '');
      if (ra !== a) wrong.push(`chunk ${i}`);
      if (rb !== b) wrong.push(`chunk ${i + 1}`);
    }
    expect(wrong).toEqual([]);
  }, 300_000);

  it('each corpus name through item 11: read back unchanged, or refused with ITEM_VALUE_NOT_GBK naming its code point', async () => {
    const { writer, reader } = setUp(6);
    for (const { name, cp, outcome } of corpusNames()) {
      const label = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
      if (outcome === 'refused') {
        await expect(writer.write({ items: { 11: name } }), label).rejects.toMatchObject({ code: 'ITEM_VALUE_NOT_GBK', details: { itemNo: 11, codePoint: label } });
        continue;
      }
      await writer.write({ items: { 11: name } });
      const read = await reader.readItems([11]);
      expect([label, read.items[0].value]).toEqual([label, name]);
    }
  }, 120_000);
});
