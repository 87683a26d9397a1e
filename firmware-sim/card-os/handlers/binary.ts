// READ BINARY (00 B0) and UPDATE BINARY (00 D6) on transparent files. P1 bit 8 set: P1 low 5 bits are
// an SFI and P2 the offset; otherwise P1P2 is a 15-bit offset.
import type { CommandApdu } from '../command-apdu.ts';
import type { CardOs } from '../card-os.ts';
import type { CardResponse, Handler } from '../command-table.ts';
import { CardStatus, SW } from '../status-words.ts';
import { asTransparent, elementaryFileBySfi } from './file-reference.ts';

function target(card: CardOs, command: CommandApdu): { data: Uint8Array; offset: number; file: ReturnType<typeof asTransparent> } {
  let offset: number;
  let sfi = 0;
  if (command.p1 & 0x80) {
    if (command.p1 & 0x60) throw new CardStatus(SW.INCORRECT_P1P2);
    sfi = command.p1 & 0x1f;
    offset = command.p2;
  } else {
    offset = (command.p1 << 8) | command.p2;
  }
  const file = asTransparent(elementaryFileBySfi(card, sfi));
  return { data: file.data, offset, file };
}

export const readBinary: Handler = {
  kind: 'read',
  classes: [0x00],
  run(card: CardOs, command: CommandApdu): CardResponse {
    if (command.le === undefined || command.data.length > 0) throw new CardStatus(SW.WRONG_LENGTH);
    const { data, offset, file } = target(card, command);
    card.requireAccess(file.access.read);
    if (offset >= data.length) throw new CardStatus(SW.WRONG_P1P2);
    const available = data.length - offset;
    // Le 00 (256) or extended 0000 (65536) means "as much as fits".
    const wantsAll = command.le === (command.extended ? 65536 : 256);
    const n = Math.min(command.le, available);
    const out = data.slice(offset, offset + n);
    return { data: out, sw: !wantsAll && command.le > available ? SW.END_OF_FILE : SW.OK };
  },
};

export const updateBinary: Handler = {
  kind: 'write',
  classes: [0x00],
  run(card: CardOs, command: CommandApdu): CardResponse {
    if (command.data.length === 0) throw new CardStatus(SW.WRONG_LENGTH);
    const { data, offset, file } = target(card, command);
    card.requireAccess(file.access.update);
    if (offset >= data.length) throw new CardStatus(SW.WRONG_P1P2);
    if (offset + command.data.length > data.length) throw new CardStatus(SW.WRONG_LENGTH);
    data.set(command.data, offset);
    return { sw: SW.OK };
  },
};
