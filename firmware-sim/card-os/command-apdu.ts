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

export function parseCommandApdu(apdu: Uint8Array): CommandApdu | undefined {
  if (apdu.length < 4) return undefined;
  const [cla, ins, p1, p2] = apdu;
  const header = { cla, ins, p1, p2 };
  const empty = new Uint8Array(0);
  const n = apdu.length;
  if (n === 4) return { ...header, data: empty, extended: false, isoCase: 1 };
  const b4 = apdu[4];
  if (n === 5) return { ...header, data: empty, le: b4 === 0 ? 256 : b4, extended: false, isoCase: 2 };
  if (b4 !== 0) {
    // Short Lc.
    if (n === 5 + b4) return { ...header, data: apdu.slice(5), extended: false, isoCase: 3 };
    if (n === 6 + b4) {
      const le = apdu[n - 1];
      return { ...header, data: apdu.slice(5, 5 + b4), le: le === 0 ? 256 : le, extended: false, isoCase: 4 };
    }
    return undefined;
  }
  // b4 = 00 and more bytes: the extended form.
  if (n === 7) {
    const le = (apdu[5] << 8) | apdu[6];
    return { ...header, data: empty, le: le === 0 ? 65536 : le, extended: true, isoCase: 2 };
  }
  if (n < 8) return undefined;
  const lc = (apdu[5] << 8) | apdu[6];
  if (lc === 0) return undefined;
  if (n === 7 + lc) return { ...header, data: apdu.slice(7), extended: true, isoCase: 3 };
  if (n === 9 + lc) {
    const le = (apdu[n - 2] << 8) | apdu[n - 1];
    return { ...header, data: apdu.slice(7, 7 + lc), le: le === 0 ? 65536 : le, extended: true, isoCase: 4 };
  }
  return undefined;
}
