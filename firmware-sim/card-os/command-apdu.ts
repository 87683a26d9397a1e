// Parsing of command APDUs (ISO/IEC 7816-3 §12.1: cases 1–4, short and extended). Pure; a malformed
// APDU yields undefined so the card answers 6700 instead of throwing.

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data (empty for cases 1 and 2). */
  data: Uint8Array;
  /** Expected response length: undefined = none (cases 1/3); 0 is already expanded to 256 or 65536. */
  le?: number;
  /** True when Lc/Le used the extended (3-byte / 2-byte) form. */
  extended: boolean;
  /** ISO case 1..4, as parsed. */
  isoCase: 1 | 2 | 3 | 4;
}

const EMPTY = new Uint8Array(0);

function command(apdu: Uint8Array, data: Uint8Array, le: number | undefined, extended: boolean, isoCase: 1 | 2 | 3 | 4): CommandApdu {
  // Indexed reads, no destructuring: iterating a typed array is slow on the hot path.
  return { cla: apdu[0], ins: apdu[1], p1: apdu[2], p2: apdu[3], data, le, extended, isoCase };
}

export function parseCommandApdu(apdu: Uint8Array): CommandApdu | undefined {
  const n = apdu.length;
  if (n < 4) return undefined;
  if (n === 4) return command(apdu, EMPTY, undefined, false, 1);
  const b4 = apdu[4];
  if (n === 5) return command(apdu, EMPTY, b4 === 0 ? 256 : b4, false, 2);
  if (b4 !== 0) {
    // Short Lc.
    if (n === 5 + b4) return command(apdu, apdu.slice(5), undefined, false, 3);
    if (n === 6 + b4) {
      const le = apdu[n - 1];
      return command(apdu, apdu.slice(5, 5 + b4), le === 0 ? 256 : le, false, 4);
    }
    return undefined;
  }
  // b4 = 00 and more bytes: the extended form.
  if (n === 7) {
    const le = (apdu[5] << 8) | apdu[6];
    return command(apdu, EMPTY, le === 0 ? 65536 : le, true, 2);
  }
  if (n < 8) return undefined;
  const lc = (apdu[5] << 8) | apdu[6];
  if (lc === 0) return undefined;
  if (n === 7 + lc) return command(apdu, apdu.slice(7), undefined, true, 3);
  if (n === 9 + lc) {
    const le = (apdu[n - 2] << 8) | apdu[n - 1];
    return command(apdu, apdu.slice(7, 7 + lc), le === 0 ? 65536 : le, true, 4);
  }
  return undefined;
}
