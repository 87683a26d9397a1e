// Public API of the simulated cards (what the simulated reader, the CLI and tests use).
export type { SimCard } from '../sim-card.ts';
export { createHealthCard, SimHealthCard } from './health-card.ts';
export { createSam, SimSam, SAM_ATR } from './sam.ts';
export { createBlankCpuCard, BLANK_CARD_ATR } from './blank-cpu-card.ts';
export { createMuteCard } from './mute-card.ts';
export { createOnly6d00Card } from './only-6d00-card.ts';
export { createTransitCard } from './transit-card.ts';
export { cardKey, city8Of, samKey } from './health-card-keys.ts';
export { generateProfile, loadProfile, validateProfile, type HealthCardProfile } from '../personalisation/index.ts';
