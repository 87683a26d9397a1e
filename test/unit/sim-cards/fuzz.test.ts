// Random and half-structured APDUs against every card, over both protocols: no exception, always a
// status word, and never 6F00 (which would mean a handler crashed).
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../firmware-sim/card-os/seeded-random.ts';
import {
  createBlankCpuCard, createHealthCard, createSam, createTransitCard, generateProfile, type SimCard,
} from '../../../firmware-sim/cards/index.ts';

const CLAS = [0x00, 0x04, 0x80, 0x84, 0x0c, 0xff];
const INSES = [0xa4, 0xb0, 0xb2, 0xd6, 0xdc, 0x84, 0x82, 0xc0, 0x20, 0x5e, 0xde, 0xfa, 0xd2, 0x0c, 0xca];
const PREFIXES = ['00A40000023F00', '00A4000002DDF1', '00A4000002DF02', '00A4000002EF07', '00A4000002DF03', '00A4000002EE01', '0084000008', '0020000003123456'];

function randomApdu(r: SeededRandom): Uint8Array {
  const kind = r.int(4);
  if (kind === 0) return r.bytes(r.int(40));
  const header = [r.chance(0.8) ? r.pick(CLAS) : r.int(256), r.chance(0.8) ? r.pick(INSES) : r.int(256), r.int(256), r.chance(0.5) ? r.pick([0, 4, 3, 0x0c]) : r.int(256)];
  if (kind === 1) return Uint8Array.from([...header, ...r.bytes(r.int(3))]);
  if (kind === 2) {
    const n = r.between(1, 40);
    return Uint8Array.from([...header, n, ...r.bytes(r.chance(0.9) ? n : r.int(60)), ...(r.chance(0.5) ? [r.int(256)] : [])]);
  }
  const n = r.int(300);
  return Uint8Array.from([...header, 0, n >> 8, n & 0xff, ...r.bytes(r.chance(0.8) ? n : r.int(300)), ...(r.chance(0.5) ? r.bytes(2) : [])]);
}

describe('fuzz: random APDUs never throw', () => {
  const cards: Array<[string, () => SimCard]> = [
    ['health card', () => createHealthCard(generateProfile(5))],
    ['sam', () => createSam()],
    ['blank', () => createBlankCpuCard()],
    ['transit', () => createTransitCard()],
  ];
  for (const [name, make] of cards) {
    it(name, () => {
      const r = new SeededRandom(`fuzz:${name}`);
      const card = make();
      card.powerOn();
      const seen = new Set<string>();
      for (let i = 0; i < 4000; i++) {
        if (r.chance(0.01)) card.powerOn();
        const apdu = r.chance(0.15) ? Buffer.from(r.pick(PREFIXES), 'hex') : randomApdu(r);
        const protocol = r.chance(0.5) ? 0 : 1;
        const answer = card.process(apdu, protocol);
        expect(answer.response.length).toBeGreaterThanOrEqual(2);
        const sw1 = answer.response[answer.response.length - 2];
        expect(sw1 === 0x90 || (sw1 >= 0x61 && sw1 <= 0x6f)).toBe(true);
        const sw = Buffer.from(answer.response.subarray(-2)).toString('hex');
        expect(sw, Buffer.from(apdu).toString('hex')).not.toBe('6f00');
        expect(['select', 'read', 'write', 'crypto', 'other']).toContain(answer.kind);
        seen.add(sw);
      }
      // The fuzzer reached more than the trivial error paths.
      expect(seen.size).toBeGreaterThan(6);
    });
  }
});
