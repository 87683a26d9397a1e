// A card that answers reset and then 6D00 ("instruction not supported") to every command, as some
// unrelated cards do: the host must give up cleanly instead of retrying.
import type { CardAnswer, SimCard } from '../sim-card.ts';
import { buildAtr } from '../card-os/atr.ts';

const ONLY_6D00_CARD_ATR = buildAtr([0, 1], new TextEncoder().encode('YIKA6D00'));

export function createOnly6d00Card(options: { label?: string } = {}): SimCard {
  const atr = (): Uint8Array => Uint8Array.from(ONLY_6D00_CARD_ATR);
  return {
    label: options.label ?? 'only-6d00',
    protocols: [0, 1],
    powerOn: atr,
    reset: atr,
    powerOff: () => {},
    process: (): CardAnswer => ({ response: Uint8Array.of(0x6d, 0x00), kind: 'other' }),
  };
}
