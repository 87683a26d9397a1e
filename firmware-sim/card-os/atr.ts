// Building answers to reset: TS 3B, T0 with the historical-byte count, TD bytes for the offered
// protocols, historical bytes, and TCK when anything but T=0 alone is offered (ISO/IEC 7816-3 §8.2).

export function buildAtr(protocols: ReadonlyArray<0 | 1>, historical: Uint8Array): Uint8Array {
  if (historical.length > 15) throw new RangeError('at most 15 historical bytes');
  const k = historical.length;
  const bytes: number[] = [0x3b];
  if (protocols.length === 1 && protocols[0] === 0) {
    bytes.push(k, ...historical);
    return Uint8Array.from(bytes);
  }
  if (protocols.includes(0) && protocols.includes(1)) {
    // TD1 = 80: T=0 first, TD2 follows; TD2 = 01: T=1 also offered.
    bytes.push(0x80 | k, 0x80, 0x01, ...historical);
  } else {
    bytes.push(0x80 | k, 0x01, ...historical);
  }
  let tck = 0;
  for (let i = 1; i < bytes.length; i++) tck ^= bytes[i];
  bytes.push(tck);
  return Uint8Array.from(bytes);
}
