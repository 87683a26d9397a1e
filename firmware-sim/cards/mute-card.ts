// A mute card: it answers reset (so the slot sees a card) but never answers a command; `mute: true`
// tells the reader to report CARD_MUTE after its timeout. process() returns an empty response that
// the reader must not forward.
import type { CardAnswer, SimCard } from '../sim-card.ts';
import { buildAtr } from '../card-os/atr.ts';

const MUTE_CARD_ATR = buildAtr([0, 1], new TextEncoder().encode('YIKAMUTE'));

export function createMuteCard(options: { label?: string } = {}): SimCard {
  const atr = (): Uint8Array => Uint8Array.from(MUTE_CARD_ATR);
  return {
    label: options.label ?? 'mute',
    protocols: [0, 1],
    mute: true,
    powerOn: atr,
    reset: atr,
    powerOff: () => {},
    process: (): CardAnswer => ({ response: new Uint8Array(0), kind: 'other' }),
  };
}
