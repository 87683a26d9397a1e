// A simulated cardholder as a JSON-serialisable profile: item values in the hospital-API string form
// (an → text, cn → digits, b → uppercase hex; null = unwritten, FF on the card), the photo as base64,
// record-based data newest first, visits per slot (null = empty slot, index flag FF).
import type { KeyName } from '../../apdu/healthcard/file-map.ts';

export type ItemValues = Record<number, string | null>;

export interface HealthCardProfile {
  /** The generator seed this profile came from (informational). */
  seed?: number | string;
  /** The 8-byte chip serial of the ATR historical bytes (card8), 16 hex digits. */
  card8: string;
  /** Items 1–57 by item number (JSON keys are the decimal numbers). */
  items: ItemValues;
  /** Photo bytes (JPEG or PNG) as base64, at most 3070 bytes; absent/null = no photo (EF07 all FF). */
  photo?: string | null;
  /** Newest first, ≤ 3 records; keys 58 (substance) and 59 (reaction). */
  allergies?: ItemValues[];
  /** Newest first, ≤ 10 records; keys 60 (vaccine) and 61 (date). */
  immunisations?: ItemValues[];
  /** EE01–EE03: items 64–212, or null for an empty slot. */
  inpatient?: Array<ItemValues | null>;
  /** ED01–ED05: items 213–384, or null for an empty slot. */
  outpatient?: Array<ItemValues | null>;
  /** Two-digit province; default the first two digits of the city code (item 57). */
  province?: string;
  /** Keys personalised with a retry counter of 0 (every EXTERNAL AUTHENTICATE answers 6983). */
  keysBlocked?: KeyName[];
  /** Keys with a reduced retry counter (e.g. { "RK_DDF1": 2 }). */
  keyTries?: Partial<Record<KeyName, number>>;
}
