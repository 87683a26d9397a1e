// The host reader/authorizer/writer against the simulated health card and SAM (firmware-sim/cards),
// through a tiny CardChannel adapter over SimCard.process: nothing else of the simulator is used.
import { describe, expect, it } from 'vitest';
import type { CardChannel } from '../../../apdu/card-channel.ts';
import { runBatchSequentially } from '../../../apdu/batch.ts';
import type { SimCard } from '../../../firmware-sim/sim-card.ts';
import { createHealthCard, createSam } from '../../../firmware-sim/cards/index.ts';
import { generateProfile } from '../../../firmware-sim/personalisation/index.ts';
import { HealthCardReader } from '../../../apdu/healthcard/health-card-reader.ts';
import { SamAuthorizer } from '../../../apdu/healthcard/sam-authorizer.ts';

/** The adapter: one transmit = one SimCard.process; optional batching with a batch counter. */
function simChannel(card: SimCard, protocol: 0 | 1, batch = false): CardChannel & { batches: number } {
  const ch: CardChannel & { batches: number } = {
    batches: 0,
    transmit: async (c) => card.process(c, protocol).response,
  };
  if (batch) ch.transmitBatch = async (cmds) => { ch.batches++; return runBatchSequentially({ transmit: ch.transmit }, cmds); };
  return ch;
}

function setUp(seed: number, opts: { batch?: boolean; samProvince?: string } = {}) {
  const profile = generateProfile(seed);
  const card = createHealthCard(profile);
  const atr = card.powerOn();
  const sam = createSam({ province: opts.samProvince ?? profile.items[0x39]!.slice(0, 2) });
  sam.powerOn();
  const authorizer = new SamAuthorizer(simChannel(sam, 0), { pin: '123456' });
  const reader = new HealthCardReader(simChannel(card, 1, opts.batch), { atr, authorizer });
  return { profile, card, sam, atr, authorizer, reader };
}

describe('HealthCardReader against the simulated card', () => {
  it('reads the whole card back equal to the generated profile', async () => {
    const { profile, reader } = setUp(1, { batch: true });
    const p = await reader.readProfile();
    for (let n = 1; n <= 57; n++) expect(p.items[n], `item ${n}`).toEqual(profile.items[n] ?? null);
    expect(p.photo ?? null).toEqual(profile.photo ?? null);
    expect(p.allergies).toEqual(profile.allergies ?? []);
    expect(p.immunisations).toEqual(profile.immunisations ?? []);
    const norm = (list: Array<Record<number, string | null> | null> | undefined, first: number, last: number) =>
      (list ?? []).map((v) => (v ? Object.fromEntries(Array.from({ length: last - first + 1 }, (_, i) => [first + i, v[first + i] ?? null])) : null));
    expect(norm(p.inpatient, 64, 212)).toEqual(norm(profile.inpatient, 64, 212));
    expect(norm(p.outpatient, 213, 384)).toEqual(norm(profile.outpatient, 213, 384));
  });
});
