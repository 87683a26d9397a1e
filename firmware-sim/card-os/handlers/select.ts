// SELECT (00 A4): by FID (P1 00; 01 child DF; 02 EF under the current DF; 03 parent DF) and by DF
// name (P1 04). A DF answers its FCI, an EF a bare 9000. P2 00 = return FCI, 0C = no response data.
import type { CommandApdu } from '../command-apdu.ts';
import type { CardOs } from '../card-os.ts';
import type { CardResponse, Handler } from '../command-table.ts';
import { DedicatedFile, type ElementaryFile } from '../file-system.ts';
import { CardStatus, SW } from '../status-words.ts';

type Found = DedicatedFile | ElementaryFile;

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** ISO search order for P1 = 00: the MF, the current DF, its children, its parent, the parent's children. */
function findByFid(card: CardOs, fid: number): Found | undefined {
  if (fid === card.mf.fid) return card.mf;
  const df = card.currentDf;
  if (df.fid === fid) return df;
  const child = df.child(fid);
  if (child) return child;
  const parent = df.parent;
  if (parent) {
    if (parent.fid === fid) return parent;
    return parent.child(fid);
  }
  return undefined;
}

function findByName(card: CardOs, name: Uint8Array): DedicatedFile | undefined {
  for (const df of card.mf.dedicatedFiles()) if (df.name && bytesEqual(df.name, name)) return df;
  return undefined;
}

function fid(command: CommandApdu): number {
  if (command.data.length !== 2) throw new CardStatus(SW.WRONG_LENGTH);
  return (command.data[0] << 8) | command.data[1];
}

function selectFile(card: CardOs, command: CommandApdu): Found {
  switch (command.p1) {
    case 0x00:
      if (command.data.length === 0) return card.mf;
      return findByFid(card, fid(command)) ?? notFound();
    case 0x01: {
      const f = card.currentDf.child(fid(command));
      return f instanceof DedicatedFile ? f : notFound();
    }
    case 0x02: {
      const f = card.currentDf.child(fid(command));
      return f && !(f instanceof DedicatedFile) ? f : notFound();
    }
    case 0x03:
      if (command.data.length !== 0) throw new CardStatus(SW.WRONG_LENGTH);
      return card.currentDf.parent ?? notFound();
    case 0x04:
      if (command.data.length < 1 || command.data.length > 16) throw new CardStatus(SW.WRONG_LENGTH);
      return findByName(card, command.data) ?? notFound();
    default:
      throw new CardStatus(SW.INCORRECT_P1P2);
  }
}

function notFound(): never {
  throw new CardStatus(SW.FILE_NOT_FOUND);
}

export const select: Handler = {
  kind: 'select',
  classes: [0x00],
  run(card: CardOs, command: CommandApdu): CardResponse {
    // P2: 00 FCI, 04 FCP (answered with the FCI), 0C no data.
    if (command.p2 !== 0x00 && command.p2 !== 0x04 && command.p2 !== 0x0c) throw new CardStatus(SW.INCORRECT_P1P2);
    const found = selectFile(card, command);
    if (found instanceof DedicatedFile) {
      card.select(found);
      return { data: command.p2 === 0x0c ? undefined : found.fci, sw: SW.OK };
    }
    card.select(found.parent ?? card.mf, found);
    return { sw: SW.OK };
  },
};
