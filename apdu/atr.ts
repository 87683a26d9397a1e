// ISO/IEC 7816-3 §8 answer to reset: TS, T0, interface bytes TAi/TBi/TCi/TDi, historical bytes, TCK.

import { ApduFormatError } from './apdu-errors.ts';

export interface InterfaceBytes {
  ta?: number;
  tb?: number;
  tc?: number;
  td?: number;
}

export interface ParsedAtr {
  /** 3B direct convention, 3F inverse. */
  ts: number;
  t0: number;
  /** Group i (1-based in ISO) at index i-1. */
  interfaceBytes: InterfaceBytes[];
  /** Transmission protocols offered (T=0 when no TD1). */
  protocols: number[];
  historical: Uint8Array;
  tck?: number;
}

export function parseAtr(atr: Uint8Array): ParsedAtr {
  if (atr.length < 2) throw new ApduFormatError('ATR_MALFORMED', 'ATR shorter than 2 bytes');
  if (atr.length > 33) throw new ApduFormatError('ATR_MALFORMED', 'ATR longer than 33 bytes');
  const ts = atr[0];
  if (ts !== 0x3b && ts !== 0x3f) throw new ApduFormatError('ATR_MALFORMED', 'TS must be 3B or 3F');
  const t0 = atr[1];
  const k = t0 & 0x0f;
  let y = t0 >> 4;
  let i = 2;
  const groups: InterfaceBytes[] = [];
  const protocols: number[] = [];
  const need = (): number => {
    if (i >= atr.length) throw new ApduFormatError('ATR_MALFORMED', 'ATR truncated in its interface bytes');
    return atr[i++];
  };
  for (;;) {
    const g: InterfaceBytes = {};
    if (y & 1) g.ta = need();
    if (y & 2) g.tb = need();
    if (y & 4) g.tc = need();
    if (y & 8) g.td = need();
    groups.push(g);
    if (g.td === undefined) break;
    const t = g.td & 0x0f;
    if (!protocols.includes(t)) protocols.push(t);
    y = g.td >> 4;
  }
  if (protocols.length === 0) protocols.push(0);
  if (atr.length < i + k) throw new ApduFormatError('ATR_MALFORMED', 'ATR truncated in its historical bytes');
  const historical = atr.slice(i, i + k);
  i += k;
  // TCK is present when any protocol other than T=0 is indicated.
  const tckPresent = protocols.some((p) => p !== 0);
  let tck: number | undefined;
  if (tckPresent) {
    if (i >= atr.length) throw new ApduFormatError('ATR_MALFORMED', 'ATR lacks its TCK');
    tck = atr[i++];
    let x = 0;
    for (let j = 1; j < i; j++) x ^= atr[j];
    if (x !== 0) throw new ApduFormatError('ATR_TCK_MISMATCH', 'ATR check byte TCK is wrong');
  }
  if (i !== atr.length) throw new ApduFormatError('ATR_MALFORMED', `ATR has ${atr.length - i} extra bytes`);
  return { ts, t0, interfaceBytes: groups, protocols, historical, tck };
}

/** ISO 7816-3 Table 7: Fi by the high nibble of TA1 (0 where RFU). */
export const FI_TABLE: readonly number[] = [372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0];
/** ISO 7816-3 Table 8: Di by the low nibble of TA1 (0 where RFU). */
export const DI_TABLE: readonly number[] = [0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0];

/**
 * The Fi/Di a card offers in TA1 for PPS, or undefined when TA1 is absent, RFU or the default 372/1.
 * Throws ATR_MALFORMED for an ATR that does not parse.
 */
export function offeredRate(atr: Uint8Array): { fi: number; di: number; ta1: number } | undefined {
  const ta1 = parseAtr(atr).interfaceBytes[0]?.ta;
  if (ta1 === undefined) return undefined;
  const fi = FI_TABLE[ta1 >> 4];
  const di = DI_TABLE[ta1 & 0x0f];
  if (!fi || !di || (fi === 372 && di === 1)) return undefined;
  return { fi, di, ta1 };
}
