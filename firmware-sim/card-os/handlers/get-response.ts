// GET RESPONSE (00 C0): serves the data a T=0 command announced with 61xx, in one or more pieces.
import type { CommandApdu } from '../command-apdu.ts';
import type { CardOs } from '../card-os.ts';
import type { CardResponse, Handler } from '../command-table.ts';
import { CardStatus, SW } from '../status-words.ts';

export const getResponse: Handler = {
  kind: 'other',
  classes: [0x00],
  shapesOwnResponse: true,
  run(card: CardOs, command: CommandApdu): CardResponse {
    if (command.p1 !== 0 || command.p2 !== 0) throw new CardStatus(SW.INCORRECT_P1P2);
    if (command.le === undefined || command.data.length > 0) throw new CardStatus(SW.WRONG_LENGTH);
    const pending = card.pending;
    if (!pending) throw new CardStatus(SW.CONDITIONS_NOT_SATISFIED);
    const available = pending.data.length;
    if (card.protocol === 0 && !command.extended && command.le > available) {
      // Keep the data: the host retries with the right Le.
      return { sw: SW.WRONG_LE | (Math.min(available, 256) & 0xff) };
    }
    const n = Math.min(command.le, available);
    const out = pending.data.slice(0, n);
    const rest = pending.data.subarray(n);
    if (rest.length > 0) {
      card.pending = { data: rest, sw: pending.sw };
      return { data: out, sw: SW.BYTES_AVAILABLE | (Math.min(rest.length, 256) & 0xff) };
    }
    card.pending = undefined;
    return { data: out, sw: pending.sw };
  },
};
