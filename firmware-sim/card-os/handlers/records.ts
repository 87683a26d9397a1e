// READ RECORD (00 B2) by number (P2 …100b) or by identifier (P2 …000b: the first record whose first
// byte — the TLV tag — equals P1), and UPDATE RECORD (00 DC) by number or, on a cyclic file, as a new
// newest record (P1 00, P2 …011b "previous": the oldest record is overwritten and becomes record 1).
// CLA 04 UPDATE RECORD carries secure messaging (secure-messaging.ts).
import type { CommandApdu } from '../command-apdu.ts';
import type { CardOs } from '../card-os.ts';
import type { CardResponse, Handler } from '../command-table.ts';
import type { RecordFile } from '../file-system.ts';
import { unwrapSecureRecordUpdate } from '../secure-messaging.ts';
import { CardStatus, SW } from '../status-words.ts';
import { asRecordFile, elementaryFileBySfi } from './file-reference.ts';

function recordFileOf(card: CardOs, p2: number): RecordFile {
  const sfi = p2 >> 3;
  if (sfi === 0x1f) throw new CardStatus(SW.INCORRECT_P1P2);
  return asRecordFile(elementaryFileBySfi(card, sfi));
}

function recordIndex(file: RecordFile, p1: number): number {
  if (p1 === 0) throw new CardStatus(SW.INCORRECT_P1P2);
  if (p1 > file.records.length) throw new CardStatus(SW.RECORD_NOT_FOUND);
  return p1 - 1;
}

export const readRecord: Handler = {
  kind: 'read',
  classes: [0x00],
  run(card: CardOs, command: CommandApdu): CardResponse {
    if (command.le === undefined || command.data.length > 0) throw new CardStatus(SW.WRONG_LENGTH);
    const mode = command.p2 & 0x07;
    if (mode !== 0x04 && mode !== 0x00) throw new CardStatus(SW.INCORRECT_P1P2);
    const file = recordFileOf(card, command.p2);
    card.requireAccess(file.access.read);
    if (mode === 0x04) return { data: Uint8Array.from(file.records[recordIndex(file, command.p1)]), sw: SW.OK };
    const record = file.records.find((r) => r[0] === command.p1);
    if (!record) throw new CardStatus(SW.RECORD_NOT_FOUND);
    return { data: Uint8Array.from(record), sw: SW.OK };
  },
};

export const updateRecord: Handler = {
  kind: 'write',
  classes: [0x00, 0x04],
  run(card: CardOs, command: CommandApdu): CardResponse {
    const mode = command.p2 & 0x07;
    if (command.cla === 0x04) {
      // The challenge is spent by any secure-messaging command, whatever its outcome.
      const challenge = card.takeChallenge();
      if (mode !== 0x04) throw new CardStatus(SW.INCORRECT_P1P2);
      const file = recordFileOf(card, command.p2);
      card.requireAccess(file.access.update);
      const index = recordIndex(file, command.p1);
      const key = file.parent?.smKey;
      if (!key) throw new CardStatus(SW.SM_DATA_OBJECTS_MISSING);
      const value = unwrapSecureRecordUpdate(command, key, challenge);
      const record = file.records[index];
      // A TLV record keeps its tag and its fixed length.
      if (value.length !== record.length || value[0] !== record[0] || value[1] !== record.length - 2) throw new CardStatus(SW.WRONG_DATA);
      record.set(value);
      return { sw: SW.OK };
    }
    if (command.data.length === 0) throw new CardStatus(SW.WRONG_LENGTH);
    if (mode !== 0x04 && mode !== 0x03) throw new CardStatus(SW.INCORRECT_P1P2);
    const file = recordFileOf(card, command.p2);
    if (file.access.updateMode === 'secure-messaging') throw new CardStatus(SW.SECURITY_STATUS_NOT_SATISFIED);
    card.requireAccess(file.access.update);
    if (mode === 0x03) {
      if (file.type !== 'cyclic' || command.p1 !== 0) throw new CardStatus(SW.INCORRECT_P1P2);
      const size = file.records[0]?.length ?? 0;
      if (command.data.length !== size) throw new CardStatus(SW.WRONG_LENGTH);
      file.records.pop();
      file.records.unshift(Uint8Array.from(command.data));
      return { sw: SW.OK };
    }
    const record = file.records[recordIndex(file, command.p1)];
    if (command.data.length !== record.length) throw new CardStatus(SW.WRONG_LENGTH);
    record.set(command.data);
    return { sw: SW.OK };
  },
};
