// The interindustry command set every simulated card starts from (a card adds or overrides entries).
import type { CommandTable } from './command-table.ts';
import { externalAuthenticate, getChallenge } from './handlers/authentication.ts';
import { readBinary, updateBinary } from './handlers/binary.ts';
import { getResponse } from './handlers/get-response.ts';
import { readRecord, updateRecord } from './handlers/records.ts';
import { select } from './handlers/select.ts';

const INS = {
  SELECT: 0xa4,
  READ_BINARY: 0xb0,
  UPDATE_BINARY: 0xd6,
  READ_RECORD: 0xb2,
  UPDATE_RECORD: 0xdc,
  GET_CHALLENGE: 0x84,
  EXTERNAL_AUTHENTICATE: 0x82,
  GET_RESPONSE: 0xc0,
  VERIFY: 0x20,
} as const;

export function isoCommands(): CommandTable {
  return new Map([
    [INS.SELECT, select],
    [INS.READ_BINARY, readBinary],
    [INS.UPDATE_BINARY, updateBinary],
    [INS.READ_RECORD, readRecord],
    [INS.UPDATE_RECORD, updateRecord],
    [INS.GET_CHALLENGE, getChallenge],
    [INS.EXTERNAL_AUTHENTICATE, externalAuthenticate],
    [INS.GET_RESPONSE, getResponse],
  ]);
}
