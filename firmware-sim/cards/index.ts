// Public API of the simulated cards (what the simulated reader, the CLI and tests use).
export type { CardAnswer, CommandKind, SimCard } from '../sim-card.ts';
export { createHealthCard, healthCardAtr, healthCardCommands, SimHealthCard, HEALTH_CARD_ATR_SUFFIX, type HealthCardOptions } from './health-card.ts';
export { createSam, SimSam, SAM_ATR, type SamOptions } from './sam.ts';
export { createBlankCpuCard, BLANK_CARD_ATR } from './blank-cpu-card.ts';
export { createMuteCard, MUTE_CARD_ATR } from './mute-card.ts';
export { createOnly6d00Card, ONLY_6D00_CARD_ATR } from './only-6d00-card.ts';
export { createTransitCard, transitCardAtr, TRANSIT_AID, TRANSIT_DDF_NAME } from './transit-card.ts';
export { cardKey, city8Of, diversify, samKey, testMasterKey, type MasterKeyProvider } from './health-card-keys.ts';
export { CardOs } from '../card-os/card-os.ts';
export {
  generateProfile, loadProfile, serialiseProfile, validateProfile, ProfileError,
  type GenerateOptions, type HealthCardProfile, type ItemValues,
} from '../personalisation/index.ts';
