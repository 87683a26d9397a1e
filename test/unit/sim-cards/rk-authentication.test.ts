// The full read-right authentication of docs/HEALTHCARD-SECURITY.md, with every value recomputed
// independently (sm-crypto) from the doc's definitions: test master keys, diversification, session
// keys and cryptogram. The card must accept exactly the doc's cryptogram.
import { describe, expect, it } from 'vitest';
import { KEYS } from '../../../apdu/healthcard/file-map.ts';
import { cardKey, city8Of, createHealthCard, createSam, loadProfile, samKey } from '../../../firmware-sim/cards/index.ts';
import { HOST_CONSTANT, card8Of, hex, reference, samCommand, toHex, tx } from './apdu-test-kit.ts';

const profile = loadProfile(new URL('../../fixtures/profiles/guangdong.json', import.meta.url).pathname);

describe('RK authentication between SAM and card, recomputed from the doc', () => {
  it('known values of the derivation (computed once with Node\'s native SM3/SM4, a third implementation)', () => {
    const card8 = hex('0102030405060708');
    expect(toHex(reference.masterKey(0x47, 0x31))).toBe('04627820A0AB839DB0807BBF45D39351');
    expect(toHex(reference.div(reference.masterKey(0x47, 0x31), reference.city8('11')))).toBe('2D72FA556324313932FEAD30FEB19EAF');
    expect(toHex(reference.cardKey(0x47, 0x31, card8, '11'))).toBe('307A8F31DC3974CABF0606AD2C753337');
    // The simulator's own derivation gives the same Kcard.
    expect(toHex(cardKey(KEYS.RK_DDF1, card8, city8Of('110100')))).toBe('307A8F31DC3974CABF0606AD2C753337');
    expect(toHex(samKey(0x47, 0x31, city8Of('11')))).toBe('2D72FA556324313932FEAD30FEB19EAF');
    expect(toHex(samKey(0x27, 0x2a, city8Of('11')))).toBe(toHex(reference.masterKey(0x27, 0x2a)));
  });

  it('the card accepts the cryptogram computed from Kcard = div(div(MK, city8), card8) and rejects others', () => {
    const card = createHealthCard(profile);
    const atr = card.powerOn();
    const card8 = card8Of(atr);
    expect(toHex(card8)).toBe(profile.card8.toUpperCase());
    tx(card, '00A4000002DDF1');
    const kcard = reference.cardKey(0x47, 0x31, card8, '44');

    const r1 = hex(tx(card, '0084000008').data);
    const good = reference.cryptogram(reference.sessionKeys(kcard, r1).enc, HOST_CONSTANT);
    expect(tx(card, `0082000411${toHex(good)}${toHex(HOST_CONSTANT)}01`).sw).toBe('9000');

    // Replaying the same cryptogram with a fresh challenge fails.
    tx(card, '0084000008');
    expect(tx(card, `0082000411${toHex(good)}${toHex(HOST_CONSTANT)}01`).sw).toBe('63CE');

    // The Beijing province key gives a wrong cryptogram.
    const r3 = hex(tx(card, '0084000008').data);
    const otherProvince = reference.cryptogram(reference.sessionKeys(reference.cardKey(0x47, 0x31, card8, '11'), r3).enc, HOST_CONSTANT);
    expect(tx(card, `0082000411${toHex(otherProvince)}${toHex(HOST_CONSTANT)}01`).sw).toBe('63CD');

    // One flipped bit.
    const r4 = hex(tx(card, '0084000008').data);
    const flipped = reference.cryptogram(reference.sessionKeys(kcard, r4).enc, HOST_CONSTANT);
    flipped[7] ^= 0x01;
    expect(tx(card, `0082000411${toHex(flipped)}${toHex(HOST_CONSTANT)}01`).sw).toBe('63CC');

    // Any host constant works as long as the cryptogram matches it.
    const r5 = hex(tx(card, '0084000008').data);
    const p = hex('0011223344556677');
    const withP = reference.cryptogram(reference.sessionKeys(kcard, r5).enc, p);
    expect(tx(card, `0082000411${toHex(withP)}${toHex(p)}01`).sw).toBe('9000');
  });

  it('the SAM of the province computes the same cryptogram as the doc for every read key', () => {
    const card = createHealthCard(profile);
    const atr = card.powerOn();
    const card8 = card8Of(atr);
    const sam = createSam({ province: '44' });
    sam.powerOn();
    expect(tx(sam, '0020000003123456', 0).sw).toBe('9000');
    for (const name of ['RK_DDF1', 'RK_DF01', 'RK_DF02', 'RK_DF03'] as const) {
      const def = KEYS[name];
      const [p1, p2] = def.sam;
      card.powerOn();
      tx(card, '00A4000002DDF1');
      if (def.df !== 'DDF1') tx(card, `00A4000002${def.df}`);
      const r = hex(tx(card, '0084000008').data);
      const body = `${toHex(card8)}${toHex(reference.city8('44'))}${toHex(r)}`;
      expect(samCommand(sam, `80DE${p1.toString(16)}${p2.toString(16)}18${body}`).sw).toBe('9000');
      const c = hex(samCommand(sam, `80FA000010${toHex(HOST_CONSTANT)}${'00'.repeat(8)}`).data);
      const cryptogram = c.slice(0, 8).map((b, i) => b ^ c[8 + i]);
      const expected = reference.cryptogram(reference.sessionKeys(reference.cardKey(p1, p2, card8, '44'), r).enc, HOST_CONSTANT);
      expect(toHex(cryptogram), name).toBe(toHex(expected));
      expect(tx(card, `008200${def.cardRef!.toString(16).padStart(2, '0')}11${toHex(cryptogram)}${toHex(HOST_CONSTANT)}01`).sw, name).toBe('9000');
    }
  });
});
