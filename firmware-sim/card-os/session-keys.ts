// The session-key maths of docs/HEALTHCARD-SECURITY.md, shared by the card OS and the SAM so both
// sides of the simulation follow the one written definition (tests recompute it independently).
import { sm4CbcMac, sm4EncryptEcb } from '../../crypto/index.ts';

export interface SessionKeys {
  /** SKenc = SM4(K, R ‖ 00×8) */
  enc: Uint8Array;
  /** SKmac = SM4(K, R ‖ FF×8) */
  mac: Uint8Array;
}

export function sessionKeys(key: Uint8Array, challenge: Uint8Array): SessionKeys {
  const block = new Uint8Array(16);
  block.set(challenge.subarray(0, 8));
  const enc = sm4EncryptEcb(key, block);
  block.fill(0xff, 8);
  const mac = sm4EncryptEcb(key, block);
  return { enc, mac };
}

/** EXTERNAL AUTHENTICATE cryptogram: C = SM4(SKenc, P ‖ 00×8); C[0..8) XOR C[8..16). */
export function authenticationCryptogram(skEnc: Uint8Array, hostConstant: Uint8Array): Uint8Array {
  const block = new Uint8Array(16);
  block.set(hostConstant.subarray(0, 8));
  const c = sm4EncryptEcb(skEnc, block);
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = c[i] ^ c[i + 8];
  return out;
}

/** The 4-byte secure-messaging MAC: ISO 9797-1 method 2 padding, SM4-CBC with IV 00×16, leftmost 4 bytes. */
export function secureMessagingMac(skMac: Uint8Array, data: Uint8Array): Uint8Array {
  return sm4CbcMac(skMac, data, { length: 4 });
}
