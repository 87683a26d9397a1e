// Synthetic cardholders: profile type, schema, loader and the seeded generator.
export type { HealthCardProfile, ItemValues } from './profile.ts';
export { validateProfile, provinceOfProfile, MAX_PHOTO_BYTES } from './profile-schema.ts';
export { ProfileError, ProfileErrorCode, type ProfileErrorCodeName } from './profile-errors.ts';
export { loadProfile, serialiseProfile } from './load-profile.ts';
export { generateProfile, idNumber, randomDate, randomName, randomPhone, REFERENCE_YEAR, type GenerateOptions } from './cardholder-generator.ts';
export { CITIES, cityByCode, citiesOfProvince, type City, type District } from './city-codes.ts';
export { encodeBlockJpeg, syntheticPhoto, PHOTO_WIDTH, PHOTO_HEIGHT } from './synthetic-photo.ts';
