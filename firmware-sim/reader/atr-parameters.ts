// What the reader needs from a card's ATR (ISO 7816-3 §8): the protocols offered, the Fi/Di the card
// supports (TA1) and the T=1 IFSC (first TA after a TD announcing T=1). Malformed ATRs yield defaults.
import { DI_TABLE, FI_TABLE } from '../timing/timing-model.ts';

export interface AtrParameters {
  protocols: Array<0 | 1>;
  /** Highest Fi/Di the card accepts (TA1), default 372/1. */
  fi: number;
  di: number;
  /** T=1 information field size of the card, or undefined when the ATR does not say. */
  ifsc?: number;
}

export function parseAtrParameters(atr: Uint8Array): AtrParameters {
  const out: AtrParameters = { protocols: [], fi: 372, di: 1 };
  if (atr.length < 2) return { ...out, protocols: [0] };
  let y = atr[1] >> 4;
  let pos = 2;
  let level = 1;
  let lastProtocol = 0;
  while (pos <= atr.length) {
    const ta = y & 1 ? atr[pos++] : undefined;
    if (y & 2) pos++;
    if (y & 4) pos++;
    const td = y & 8 ? atr[pos++] : undefined;
    if (ta !== undefined) {
      if (level === 1) {
        const fi = FI_TABLE[ta >> 4];
        const di = DI_TABLE[ta & 0x0f];
        if (fi && di) {
          out.fi = fi;
          out.di = di;
        }
      } else if (level > 2 && lastProtocol === 1 && out.ifsc === undefined && ta >= 1 && ta <= 0xfe) {
        out.ifsc = ta;
      }
    }
    if (td === undefined) break;
    lastProtocol = td & 0x0f;
    if ((lastProtocol === 0 || lastProtocol === 1) && !out.protocols.includes(lastProtocol)) out.protocols.push(lastProtocol);
    y = td >> 4;
    level++;
  }
  if (out.protocols.length === 0) out.protocols.push(0);
  return out;
}
