// The DF03 index-flag commands of docs/HEALTHCARD-SECURITY.md: 84 D2 rr 04 01 00 marks visit slot rr
// valid (00), 84 0C rr 04 [00] erases it (FF). They act on the selected index file (EF05 inpatient,
// EF06 outpatient) after that file's update key, with no MAC.
import type { CommandApdu } from '../../card-os/command-apdu.ts';
import type { CardOs } from '../../card-os/card-os.ts';
import type { CardResponse, Handler } from '../../card-os/command-table.ts';
import { RecordFile } from '../../card-os/file-system.ts';
import { CardStatus, SW } from '../../card-os/status-words.ts';

export const INDEX_FLAG_PURPOSE = 'index-flags';
export const FLAG_VALID = 0x00;
const FLAG_EMPTY = 0xff;

function indexRecord(card: CardOs, command: CommandApdu): Uint8Array {
  if (command.p2 !== 0x04) throw new CardStatus(SW.INCORRECT_P1P2);
  const ef = card.currentEf;
  if (!ef) throw new CardStatus(SW.NO_CURRENT_EF);
  if (!(ef instanceof RecordFile) || ef.purpose !== INDEX_FLAG_PURPOSE) throw new CardStatus(SW.INCOMPATIBLE_FILE_STRUCTURE);
  card.requireAccess(ef.access.update);
  if (command.p1 === 0) throw new CardStatus(SW.INCORRECT_P1P2);
  if (command.p1 > ef.records.length) throw new CardStatus(SW.RECORD_NOT_FOUND);
  return ef.records[command.p1 - 1];
}

export const setIndexFlag: Handler = {
  kind: 'write',
  classes: [0x84],
  run(card: CardOs, command: CommandApdu): CardResponse {
    if (command.data.length !== 1) throw new CardStatus(SW.WRONG_LENGTH);
    if (command.data[0] !== FLAG_VALID) throw new CardStatus(SW.WRONG_DATA);
    indexRecord(card, command)[0] = FLAG_VALID;
    return { sw: SW.OK };
  },
};

export const eraseIndexFlag: Handler = {
  kind: 'write',
  classes: [0x84],
  run(card: CardOs, command: CommandApdu): CardResponse {
    // Sent as 84 0C rr 04 or 84 0C rr 04 00 (a trailing P3 of 00): no command data either way.
    if (command.data.length !== 0) throw new CardStatus(SW.WRONG_LENGTH);
    indexRecord(card, command)[0] = FLAG_EMPTY;
    return { sw: SW.OK };
  },
};
