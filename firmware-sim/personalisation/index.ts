// Synthetic cardholders: profile type, schema, loader and the seeded generator.
export type { HealthCardProfile } from './profile.ts';
export { validateProfile, provinceOfProfile } from './profile-schema.ts';
export { ProfileError } from './profile-errors.ts';
export { loadProfile, serialiseProfile } from './load-profile.ts';
export { generateProfile } from './cardholder-generator.ts';
export { CITIES } from './city-codes.ts';
