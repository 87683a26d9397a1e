// ISO/IEC 7816-4 §5.1 command APDUs, cases 1–4, short and extended: encode and parse with validation.
// Ne is the number of expected bytes: 0 = no Le field; 256 is short Le 00; 65536 is extended Le 0000.

import { ApduFormatError } from './apdu-errors.ts';

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Uint8Array;
  /** Expected response length; 0 = absent. */
  ne: number;
  /** Parsed or requested as extended length. */
  extended?: boolean;
}

export type ApduCase = 1 | 2 | 3 | 4;

export function apduCase(c: Pick<CommandApdu, 'data' | 'ne'>): ApduCase {
  if (c.data.length === 0) return c.ne === 0 ? 1 : 2;
  return c.ne === 0 ? 3 : 4;
}

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new ApduFormatError('APDU_BAD_HEADER', `${name} must be a byte`);
}

export interface EncodeOptions {
  /** Force the extended form (true), the short form (false); default: short when it fits. */
  extended?: boolean;
}

export function encodeCommand(c: CommandApdu, options: EncodeOptions = {}): Uint8Array {
  checkByte('CLA', c.cla); checkByte('INS', c.ins); checkByte('P1', c.p1); checkByte('P2', c.p2);
  if (c.cla === 0xff) throw new ApduFormatError('APDU_BAD_HEADER', 'CLA FF is reserved');
  const nc = c.data.length;
  if (!Number.isInteger(c.ne) || c.ne < 0 || c.ne > 65536) throw new ApduFormatError('APDU_LE_OUT_OF_RANGE', `Ne ${c.ne} out of range`);
  if (nc > 65535) throw new ApduFormatError('APDU_DATA_TOO_LONG', `command data ${nc} bytes, at most 65535`);
  const fitsShort = nc <= 255 && c.ne <= 256;
  const extended = options.extended ?? c.extended ?? !fitsShort;
  if (!extended && !fitsShort) {
    if (nc > 255) throw new ApduFormatError('APDU_DATA_TOO_LONG', `command data ${nc} bytes, short form allows 255`);
    throw new ApduFormatError('APDU_LE_OUT_OF_RANGE', `Ne ${c.ne} needs the extended form`);
  }
  const out: number[] = [c.cla, c.ins, c.p1, c.p2];
  if (!extended) {
    if (nc > 0) out.push(nc, ...c.data);
    if (c.ne > 0) out.push(c.ne === 256 ? 0 : c.ne);
  } else {
    if (nc > 0) out.push(0, nc >> 8, nc & 0xff, ...c.data);
    if (c.ne > 0) {
      const le = c.ne === 65536 ? 0 : c.ne;
      if (nc === 0) out.push(0);
      out.push(le >> 8, le & 0xff);
    }
  }
  return Uint8Array.from(out);
}

export function parseCommand(bytes: Uint8Array): CommandApdu {
  const n = bytes.length;
  if (n < 4) throw new ApduFormatError('APDU_TOO_SHORT', `command of ${n} bytes, at least 4 needed`);
  const [cla, ins, p1, p2] = bytes;
  const head = { cla, ins, p1, p2 };
  if (n === 4) return { ...head, data: new Uint8Array(0), ne: 0 };
  const b1 = bytes[4];
  if (n === 5) return { ...head, data: new Uint8Array(0), ne: b1 === 0 ? 256 : b1 };
  if (b1 !== 0) {
    // Short case 3 or 4.
    if (n === 5 + b1) return { ...head, data: bytes.slice(5, 5 + b1), ne: 0 };
    if (n === 6 + b1) return { ...head, data: bytes.slice(5, 5 + b1), ne: bytes[n - 1] === 0 ? 256 : bytes[n - 1] };
    if (n < 5 + b1) throw new ApduFormatError('APDU_TRUNCATED', `Lc ${b1} but only ${n - 5} data bytes`, { lc: b1, available: n - 5 });
    throw new ApduFormatError('APDU_WRONG_LC', `Lc ${b1} does not match a command of ${n} bytes`, { lc: b1, length: n });
  }
  // B1 = 00: extended length (short Lc = 0 does not exist).
  if (n === 6) throw new ApduFormatError('APDU_WRONG_LC', 'Lc 00 with no extended length');
  const b23 = (bytes[5] << 8) | bytes[6];
  if (n === 7) return { ...head, data: new Uint8Array(0), ne: b23 === 0 ? 65536 : b23, extended: true };
  if (b23 === 0) throw new ApduFormatError('APDU_WRONG_LC', 'extended Lc 0000 followed by data');
  const lc = b23;
  if (n === 7 + lc) return { ...head, data: bytes.slice(7, 7 + lc), ne: 0, extended: true };
  if (n === 9 + lc) {
    const le = (bytes[n - 2] << 8) | bytes[n - 1];
    return { ...head, data: bytes.slice(7, 7 + lc), ne: le === 0 ? 65536 : le, extended: true };
  }
  if (n === 8 + lc) throw new ApduFormatError('APDU_EXTENDED_SHORT_MIX', 'extended Lc followed by a one-byte Le');
  if (n < 7 + lc) throw new ApduFormatError('APDU_TRUNCATED', `extended Lc ${lc} but only ${n - 7} data bytes`, { lc, available: n - 7 });
  throw new ApduFormatError('APDU_WRONG_LC', `extended Lc ${lc} does not match a command of ${n} bytes`, { lc, length: n });
}

/** Convenience for building commands: `command(0x00, 0xA4, 0x00, 0x00, fid, 0)`. */
export function command(cla: number, ins: number, p1: number, p2: number, data: ArrayLike<number> = [], ne = 0): Uint8Array {
  return encodeCommand({ cla, ins, p1, p2, data: Uint8Array.from(data), ne });
}
