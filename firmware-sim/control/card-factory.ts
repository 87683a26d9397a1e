// Turns a card described in data (CardSpec: from a scenario, the control channel or a test) into a
// SimCard from firmware-sim/cards. Cardholders are synthetic: from a seed or a profile file.
import {
  createBlankCpuCard,
  createHealthCard,
  createMuteCard,
  createOnly6d00Card,
  createSam,
  createTransitCard,
  generateProfile,
  loadProfile,
  validateProfile,
  type HealthCardProfile,
} from '../cards/index.ts';
import { provinceOfProfile } from '../personalisation/index.ts';
import type { SimCard } from '../sim-card.ts';
import type { CardSpec } from './sim-commands.ts';
import { SimError } from './sim-errors.ts';

export interface CardDefaults {
  seed: number;
  samPin: string;
  /** Province the default SAM serves (two digits). */
  samProvince: string;
}

export function profileFrom(source: string | Record<string, unknown> | HealthCardProfile): HealthCardProfile {
  return typeof source === 'string' ? loadProfile(source) : validateProfile(source);
}

export function cardFromSpec(spec: CardSpec, defaults: CardDefaults): SimCard {
  switch (spec.kind) {
    case 'health': {
      const profile = spec.profile !== undefined ? profileFrom(spec.profile) : generateProfile(spec.seed ?? defaults.seed);
      return createHealthCard(profile);
    }
    case 'sam':
      // A SAM serves one province: `province` names it; `seed` picks the province of the health card
      // generated from that seed (so `insert 0x11 sam seed=42` reads `insert 1 health seed=42`).
      return createSam({
        pin: spec.pin ?? defaults.samPin,
        province: spec.province ?? (spec.seed !== undefined ? provinceOfProfile(generateProfile(spec.seed)) : defaults.samProvince),
      });
    case 'blank':
      return createBlankCpuCard();
    case 'mute':
      return createMuteCard();
    case '6d00':
      return createOnly6d00Card();
    case 'transit':
      return createTransitCard();
    default:
      throw new SimError('SIM_CARDS_UNAVAILABLE', `no simulated card of kind ${(spec as { kind: string }).kind}`);
  }
}
