// 80 DE (key diversification and session set-up) and 80 FA (P1 00 SM4-ECB encryption with SKenc,
// P1 05 4-byte MAC with SKmac), as docs/HEALTHCARD-SECURITY.md defines them.
import type { CommandApdu } from '../../card-os/command-apdu.ts';
import type { Handler } from '../../card-os/command-table.ts';
import { secureMessagingMac, sessionKeys } from '../../card-os/session-keys.ts';
import { CardStatus, SW } from '../../card-os/status-words.ts';
import { sm4EncryptEcb } from '../../../crypto/index.ts';
import { diversify } from '../health-card-keys.ts';
import type { SamState } from './sam-state.ts';

export function setUpSession(state: SamState): Handler {
  return {
    kind: 'crypto',
    classes: [0x80],
    run(_card, command: CommandApdu) {
      if (!state.pinVerified) throw new CardStatus(SW.SECURITY_STATUS_NOT_SATISFIED);
      const entry = state.key(command.p1, command.p2);
      if (!entry) throw new CardStatus(SW.REFERENCED_DATA_NOT_FOUND);
      const d = command.data;
      if (d.length !== (entry.twoLevel ? 0x18 : 0x10)) throw new CardStatus(SW.WRONG_LENGTH);
      const card8 = d.subarray(0, 8);
      // The SAM serves one province: a two-level index uses its own province key; the city8 the
      // host sends is not checked, so a card of another province fails at the card with 63Cx.
      const challenge = d.subarray(d.length - 8);
      const kcard = diversify(entry.key, card8);
      state.session = sessionKeys(kcard, challenge);
      return { sw: SW.OK };
    },
  };
}

export function samCipher(state: SamState): Handler {
  return {
    kind: 'crypto',
    classes: [0x80],
    run(_card, command: CommandApdu) {
      if (command.p2 !== 0 || (command.p1 !== 0x00 && command.p1 !== 0x05)) throw new CardStatus(SW.INCORRECT_P1P2);
      if (command.data.length === 0) throw new CardStatus(SW.WRONG_LENGTH);
      if (!state.pinVerified) throw new CardStatus(SW.SECURITY_STATUS_NOT_SATISFIED);
      const session = state.session;
      if (!session) throw new CardStatus(SW.CONDITIONS_NOT_SATISFIED);
      if (command.p1 === 0x00) {
        if (command.data.length % 16 !== 0) throw new CardStatus(SW.WRONG_LENGTH);
        return { data: sm4EncryptEcb(session.enc, command.data), sw: SW.OK };
      }
      return { data: secureMessagingMac(session.mac, command.data), sw: SW.OK };
    },
  };
}
