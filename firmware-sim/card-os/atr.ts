// Building answers to reset: TS 3B, T0 with the historical-byte count, TD bytes for the offered
// protocols, historical bytes, and TCK when anything but T=0 alone is offered (ISO/IEC 7816-3 §8.2).
// An optional TA1 offers a faster Fi/Di than the default 372/1 (the reader switches by PPS).

export interface AtrOptions {
  /** TA1: high nibble Fi, low nibble Di (ISO 7816-3 tables 7 and 8); absent = the default 0x11. */
  ta1?: number;
}

export function buildAtr(protocols: ReadonlyArray<0 | 1>, historical: Uint8Array, options: AtrOptions = {}): Uint8Array {
  if (historical.length > 15) throw new RangeError('at most 15 historical bytes');
  const k = historical.length;
  const ta1 = options.ta1 === undefined ? [] : [options.ta1];
  const y1 = options.ta1 === undefined ? 0 : 0x10;
  const bytes: number[] = [0x3b];
  if (protocols.length === 1 && protocols[0] === 0) {
    bytes.push(y1 | k, ...ta1, ...historical);
    return Uint8Array.from(bytes);
  }
  if (protocols.includes(0) && protocols.includes(1)) {
    // TD1 = 80: T=0 first, TD2 follows; TD2 = 01: T=1 also offered.
    bytes.push(0x80 | y1 | k, ...ta1, 0x80, 0x01, ...historical);
  } else {
    bytes.push(0x80 | y1 | k, ...ta1, 0x01, ...historical);
  }
  let tck = 0;
  for (let i = 1; i < bytes.length; i++) tck ^= bytes[i];
  bytes.push(tck);
  return Uint8Array.from(bytes);
}
