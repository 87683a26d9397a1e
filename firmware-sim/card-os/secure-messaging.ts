// Secure-messaging UPDATE RECORD of docs/HEALTHCARD-SECURITY.md: data = E ‖ MAC4, MAC over
// header(CLA INS P1 P2 Lc) ‖ E with SKmac, E = SM4-ECB(SKenc, L ‖ TLV ‖ 80 00…).
import { sm4DecryptEcb } from '../../crypto/index.ts';
import type { CommandApdu } from './command-apdu.ts';
import { secureMessagingMac, sessionKeys } from './session-keys.ts';
import { CardStatus, SW } from './status-words.ts';

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** Checks the MAC (6988), decrypts and strips L and the padding (6A80); returns the TLV. */
export function unwrapSecureRecordUpdate(command: CommandApdu, smKey: Uint8Array, challenge: Uint8Array): Uint8Array {
  const body = command.data;
  if (body.length < 20 || (body.length - 4) % 16 !== 0) throw new CardStatus(SW.SM_DATA_INCORRECT);
  const encrypted = body.subarray(0, body.length - 4);
  const mac = body.subarray(body.length - 4);
  const lc = body.length;
  const header = command.extended
    ? Uint8Array.of(command.cla, command.ins, command.p1, command.p2, 0x00, lc >> 8, lc & 0xff)
    : Uint8Array.of(command.cla, command.ins, command.p1, command.p2, lc);
  const keys = sessionKeys(smKey, challenge);
  const macInput = new Uint8Array(header.length + encrypted.length);
  macInput.set(header);
  macInput.set(encrypted, header.length);
  if (!constantTimeEqual(secureMessagingMac(keys.mac, macInput), mac)) throw new CardStatus(SW.SM_DATA_INCORRECT);
  const plain = sm4DecryptEcb(keys.enc, encrypted);
  const l = plain[0];
  const padStart = 1 + l;
  // Method-2 padding: exactly the blocks needed for L ‖ TLV ‖ 80, then zeros.
  if (padStart >= plain.length || plain.length !== 16 * (Math.floor(padStart / 16) + 1)) throw new CardStatus(SW.WRONG_DATA);
  if (plain[padStart] !== 0x80 || plain.subarray(padStart + 1).some((b) => b !== 0)) throw new CardStatus(SW.WRONG_DATA);
  return plain.slice(1, padStart);
}
