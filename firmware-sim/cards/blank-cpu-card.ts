// A blank CPU card: an MF and nothing else, answering every ISO command with its proper status word
// (6A82 for any file, 6986 for reads without a file, 6D00 for unknown instructions).
import { buildAtr } from '../card-os/atr.ts';
import { CardOs } from '../card-os/card-os.ts';
import { DedicatedFile } from '../card-os/file-system.ts';
import { isoCommands } from '../card-os/iso-commands.ts';

export const BLANK_CARD_ATR = buildAtr([0, 1], new TextEncoder().encode('YIKABLANK'));

export function createBlankCpuCard(options: { label?: string } = {}): CardOs {
  return new CardOs({
    label: options.label ?? 'blank',
    atr: BLANK_CARD_ATR,
    protocols: [0, 1],
    mf: new DedicatedFile(0x3f00, undefined, new Uint8Array(0)),
    commands: isoCommands(),
  });
}
