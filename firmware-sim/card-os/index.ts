// The simulated ISO/IEC 7816-4 card OS: build a file tree, pick a command table, get a SimCard.
export { CardOs, type CardOsOptions } from './card-os.ts';
export { parseCommandApdu, type CommandApdu } from './command-apdu.ts';
export { commandTable, type CardResponse, type CommandTable, type Handler } from './command-table.ts';
export {
  ALWAYS, NEVER, afterKey, DedicatedFile, RecordFile, TransparentFile,
  type AccessCondition, type AccessRules, type CardKey, type ElementaryFile,
} from './file-system.ts';
export { INS, isoCommands } from './iso-commands.ts';
export { CardStatus, SW, verifyFailed } from './status-words.ts';
export { buildAtr } from './atr.ts';
export { SeededRandom, seededRandom } from './seeded-random.ts';
export { authenticationCryptogram, secureMessagingMac, sessionKeys, type SessionKeys } from './session-keys.ts';
export { ALGORITHM_SM4, CHALLENGE_LENGTH } from './handlers/authentication.ts';
