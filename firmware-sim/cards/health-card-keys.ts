// Key diversification of docs/HEALTHCARD-SECURITY.md: div(K, D8) = SM4(K, D8 ‖ ~D8); two-level card
// keys div(div(MK, city8), card8), one-level div(MK, card8); the SAM holds div(MK, city8_SAM) or MK.
// Test master keys MK(P1, P2) = SM3("YIKA-TEST-MK" ‖ P1 ‖ P2)[0..16) — simulator only.
import { sm3 } from '../../crypto/index.ts';
import { sm4EncryptEcb } from '../../crypto/index.ts';
import type { KeyDefinition } from '../../apdu/healthcard/file-map.ts';

export type MasterKeyProvider = (p1: number, p2: number) => Uint8Array;

export const testMasterKey: MasterKeyProvider = (p1, p2) => {
  const label = new TextEncoder().encode('YIKA-TEST-MK');
  const input = new Uint8Array(label.length + 2);
  input.set(label);
  input[label.length] = p1;
  input[label.length + 1] = p2;
  return sm3(input).slice(0, 16);
};

export function diversify(key: Uint8Array, d8: Uint8Array): Uint8Array {
  if (d8.length !== 8) throw new RangeError('diversification input must be 8 bytes');
  const block = new Uint8Array(16);
  block.set(d8);
  for (let i = 0; i < 8; i++) block[8 + i] = ~d8[i] & 0xff;
  return sm4EncryptEcb(key, block);
}

/** city8 = ASCII of the first two digits of the city code (or a two-digit province) ‖ "000000". */
export function city8Of(cityOrProvince: string): Uint8Array {
  if (!/^\d{2}/.test(cityOrProvince)) throw new RangeError('a city code starts with two digits');
  return new TextEncoder().encode(`${cityOrProvince.slice(0, 2)}000000`);
}

export function isTwoLevel(p1: number): boolean {
  return p1 === 0x47 || p1 === 0x48;
}

/** The key a card is personalised with for `key` (Kcard). */
export function cardKey(key: Pick<KeyDefinition, 'sam'>, card8: Uint8Array, city8: Uint8Array, masterKey: MasterKeyProvider = testMasterKey): Uint8Array {
  const [p1, p2] = key.sam;
  const mk = masterKey(p1, p2);
  return isTwoLevel(p1) ? diversify(diversify(mk, city8), card8) : diversify(mk, card8);
}

/** The key the SAM of a province holds for index (P1, P2). */
export function samKey(p1: number, p2: number, samCity8: Uint8Array, masterKey: MasterKeyProvider = testMasterKey): Uint8Array {
  const mk = masterKey(p1, p2);
  return isTwoLevel(p1) ? diversify(mk, samCity8) : mk;
}
