// Which EF a READ/UPDATE command addresses: the current EF, or a short file identifier (SFI) in the
// current DF, which then becomes the current EF (ISO/IEC 7816-4 §7.2.2).
import type { CardOs } from '../card-os.ts';
import { DedicatedFile, RecordFile, TransparentFile, type ElementaryFile } from '../file-system.ts';
import { CardStatus, SW } from '../status-words.ts';

export function elementaryFileBySfi(card: CardOs, sfi: number): ElementaryFile {
  if (sfi === 0) {
    if (!card.currentEf) throw new CardStatus(SW.NO_CURRENT_EF);
    return card.currentEf;
  }
  const ef = card.currentDf.children.find((c): c is ElementaryFile => !(c instanceof DedicatedFile) && c.sfi === sfi);
  if (!ef) throw new CardStatus(SW.FILE_NOT_FOUND);
  card.select(card.currentDf, ef);
  return ef;
}

export function asTransparent(ef: ElementaryFile): TransparentFile {
  if (!(ef instanceof TransparentFile)) throw new CardStatus(SW.INCOMPATIBLE_FILE_STRUCTURE);
  return ef;
}

export function asRecordFile(ef: ElementaryFile): RecordFile {
  if (!(ef instanceof RecordFile)) throw new CardStatus(SW.INCOMPATIBLE_FILE_STRUCTURE);
  return ef;
}
