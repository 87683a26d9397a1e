// A command set is a table INS → handler (vsmartcard's Iso7816OS shape): the health card, the SAM and
// the small cards are each one table plus handler files on top of the same card OS.
import type { CommandKind } from '../sim-card.ts';
import type { CommandApdu } from './command-apdu.ts';
import type { CardOs } from './card-os.ts';

/** What a handler answers: response data (may be empty) and a status word. */
export interface CardResponse {
  data?: Uint8Array;
  sw: number;
}

export interface Handler {
  /** For the reader's timing model. */
  kind: CommandKind;
  /** CLA bytes accepted for this INS (others → 6E00). */
  classes: readonly number[];
  /** GET RESPONSE: the handler already applied the transmission rules to its answer. */
  shapesOwnResponse?: boolean;
  /** Runs the command; may throw CardStatus to answer a status word. */
  run(card: CardOs, command: CommandApdu): CardResponse;
}

export type CommandTable = Map<number, Handler>;

/** Merges tables; later tables override earlier entries for the same INS. */
export function commandTable(...tables: ReadonlyArray<ReadonlyMap<number, Handler>>): CommandTable {
  const out: CommandTable = new Map();
  for (const t of tables) for (const [ins, h] of t) out.set(ins, h);
  return out;
}
