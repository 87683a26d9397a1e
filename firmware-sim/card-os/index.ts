// The simulated ISO/IEC 7816-4 card OS: build a file tree, pick a command table, get a SimCard.
export { CardOs } from './card-os.ts';
export { parseCommandApdu } from './command-apdu.ts';
export { commandTable } from './command-table.ts';
export { ALWAYS, afterKey, DedicatedFile, RecordFile, TransparentFile } from './file-system.ts';
export { isoCommands } from './iso-commands.ts';
