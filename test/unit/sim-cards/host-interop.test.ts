// The host's health card reader (apdu/healthcard) against the simulated card over T=0, where every
// FCI comes as 61xx and every Le 00 as 6Cxx: the host's ISO transmission rules must absorb both, and the card
// must serve them exactly. (The T=1 read-back lives in test/unit/apdu/healthcard-vs-sim.test.ts.)
import { describe, expect, it } from 'vitest';
import type { CardChannel } from '../../../apdu/card-channel.ts';
import { withIsoTransmission } from '../../../apdu/iso-transmit.ts';
import { HealthCardReader } from '../../../apdu/healthcard/health-card-reader.ts';
import { SamAuthorizer } from '../../../apdu/healthcard/sam-authorizer.ts';
import { createHealthCard, createSam, createTransitCard, loadProfile, type SimCard } from '../../../firmware-sim/cards/index.ts';

function channel(card: SimCard, protocol: 0 | 1, log?: string[]): CardChannel {
  return {
    transmit: async (c) => {
      const r = card.process(c, protocol).response;
      log?.push(Buffer.from(r.subarray(-2)).toString('hex'));
      return r;
    },
  };
}

const iso = (card: SimCard, protocol: 0 | 1, log?: string[]): CardChannel => withIsoTransmission(channel(card, protocol, log));

describe('host reader against the simulated card over T=0', () => {
  it('reads the whole Guangdong card with a Guangdong SAM, through 61xx', async () => {
    const profile = loadProfile(new URL('../../fixtures/profiles/guangdong.json', import.meta.url).pathname);
    const card = createHealthCard(profile);
    const atr = card.powerOn();
    const sam = createSam({ province: '44' });
    sam.powerOn();
    const log: string[] = [];
    const reader = new HealthCardReader(iso(card, 0, log), { atr, authorizer: new SamAuthorizer(iso(sam, 0), { pin: '123456' }) });
    const read = await reader.readProfile();
    for (let n = 1; n <= 57; n++) expect(read.items[n] ?? null, `item ${n}`).toEqual(profile.items[n] ?? null);
    expect(read.photo ?? null).toEqual(profile.photo ?? null);
    expect(read.allergies).toEqual(profile.allergies ?? []);
    // The T=0 paths were really taken.
    expect(log.some((sw) => sw.startsWith('61'))).toBe(true);
  });

  it('the host refuses the transit card by its DF name', async () => {
    const card = createTransitCard();
    const atr = card.powerOn();
    const reader = new HealthCardReader(iso(card, 1), { atr });
    await expect(reader.identify()).rejects.toMatchObject({ code: 'NOT_A_HEALTH_CARD' });
  });
});
