// The worst-case size of an answer, so a device can refuse what would not fit the negotiated frame
// before the card sees anything (PROTOCOL.md 1.2 §6, D3), and a host can split a batch that would not.
import type { BatchCommand } from './operations.ts';

/** Bytes of the result map around a transmit's rapdu or a batch's responses (id, ok, keys, headers). */
const ANSWER_OVERHEAD = 64;
/** Bytes of one `bin` header (and array slot) per batch response. */
const PER_RESPONSE_OVERHEAD = 5;

/**
 * Ne + 2: the most bytes a card may answer to this command APDU (ISO/IEC 7816-4 cases; short Le 00 =
 * 256, extended Le 0000 = 65,536; no Le or a malformed APDU: 0 data bytes).
 */
export function worstCaseAnswer(apdu: Uint8Array): number {
  const n = apdu.length;
  if (n <= 4) return 2;
  const b4 = apdu[4];
  if (n === 5) return (b4 || 256) + 2; // case 2 short
  if (b4 !== 0) {
    // short Lc = b4
    if (n === 5 + b4) return 2; // case 3 short
    if (n === 6 + b4) return (apdu[n - 1] || 256) + 2; // case 4 short
    return 2;
  }
  if (n === 7) return (((apdu[5] << 8) | apdu[6]) || 65_536) + 2; // case 2 extended
  if (n < 7) return 2;
  const lc = (apdu[5] << 8) | apdu[6];
  if (lc === 0) return 2;
  if (n === 7 + lc) return 2; // case 3 extended
  if (n === 9 + lc) return (((apdu[n - 2] << 8) | apdu[n - 1]) || 65_536) + 2; // case 4 extended
  return 2;
}

/** The most bytes a transmit's answer message may take. */
export function worstCaseTransmitAnswer(apdu: Uint8Array): number {
  return ANSWER_OVERHEAD + worstCaseAnswer(apdu);
}

/** What one command adds to a batch's answer message at most. */
function worstCaseBatchResponse(command: BatchCommand): number {
  return worstCaseAnswer(command.apdu) + PER_RESPONSE_OVERHEAD;
}

/** The most bytes a batch's answer message may take. */
export function worstCaseBatchAnswer(commands: ReadonlyArray<BatchCommand>): number {
  let size = ANSWER_OVERHEAD;
  for (const c of commands) size += worstCaseBatchResponse(c);
  return size;
}

/** Splits a batch into parts whose worst-case answers fit `limit` bytes (a part has at least one command). */
export function splitBatchByAnswerSize(commands: ReadonlyArray<BatchCommand>, limit: number): Array<ReadonlyArray<BatchCommand>> {
  const parts: BatchCommand[][] = [];
  let current: BatchCommand[] = [];
  let size = ANSWER_OVERHEAD;
  for (const c of commands) {
    const add = worstCaseBatchResponse(c);
    if (current.length > 0 && size + add > limit) {
      parts.push(current);
      current = [];
      size = ANSWER_OVERHEAD;
    }
    current.push(c);
    size += add;
  }
  parts.push(current);
  return parts;
}
