// Schema check of a health card profile (profile.ts): every field's type and range, item numbers in
// the right file, values encodable with the shared codecs. Fails with PROFILE_INVALID naming the path.
import { encodeValue } from '../../apdu/healthcard/codecs.ts';
import { dataItem, isItemNumber, type DataItem, type ItemFile } from '../../apdu/healthcard/data-items.ts';
import {
  ALLERGY_RECORD_COUNT, IMMUNISATION_RECORD_COUNT, INPATIENT_VISIT_COUNT, KEYS, OUTPATIENT_VISIT_COUNT, PHOTO_FILE_SIZE,
  type KeyName,
} from '../../apdu/healthcard/file-map.ts';
import { isYikaError } from '../../common/yika-error.ts';
import type { HealthCardProfile, ItemValues } from './profile.ts';
import { ProfileError } from './profile-errors.ts';

const TOP_LEVEL = new Set(['seed', 'card8', 'items', 'photo', 'allergies', 'immunisations', 'inpatient', 'outpatient', 'province', 'keysBlocked', 'keyTries', 'description', '$comment']);
const MAX_PHOTO_BYTES = PHOTO_FILE_SIZE - 2;

function invalid(path: string, reason: string): never {
  throw new ProfileError('PROFILE_INVALID', `profile field ${path}: ${reason}`, { path, reason });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkItems(path: string, value: unknown, accepts: (item: DataItem) => boolean): ItemValues {
  if (!isObject(value)) invalid(path, 'must be an object of item number → string or null');
  for (const [key, v] of Object.entries(value)) {
    const n = Number(key);
    const at = `${path}.${key}`;
    if (!/^\d+$/.test(key) || !isItemNumber(n) || !accepts(dataItem(n))) invalid(at, 'not an item number of this place');
    if (v !== null && typeof v !== 'string') invalid(at, 'must be a string or null');
    const item = dataItem(n);
    try {
      encodeValue(item.format, item.length, v as string | null, n);
    } catch (e) {
      if (isYikaError(e)) invalid(at, `cannot be encoded (${e.code})`);
      throw e;
    }
  }
  return value as ItemValues;
}

function checkList(path: string, value: unknown, max: number, group: ItemFile, nullable: boolean): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) invalid(path, 'must be an array');
  if (value.length > max) invalid(path, `at most ${max} entries`);
  value.forEach((entry, i) => {
    if (entry === null && nullable) return;
    checkItems(`${path}[${i}]`, entry, (item) => item.file === group);
  });
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Checks `value` against the profile schema and returns it typed; throws ProfileError. */
export function validateProfile(value: unknown): HealthCardProfile {
  if (!isObject(value)) invalid('$', 'a profile is a JSON object');
  for (const key of Object.keys(value)) if (!TOP_LEVEL.has(key)) invalid(key, 'unknown field');
  if (value.seed !== undefined && typeof value.seed !== 'number' && typeof value.seed !== 'string') invalid('seed', 'must be a number or a string');
  if (typeof value.card8 !== 'string' || !/^[0-9A-Fa-f]{16}$/.test(value.card8)) invalid('card8', 'must be 16 hex digits');
  const items = checkItems('items', value.items, (item) => item.tag !== undefined);
  if (value.photo !== undefined && value.photo !== null) {
    if (typeof value.photo !== 'string' || value.photo.length % 4 !== 0 || !BASE64.test(value.photo)) invalid('photo', 'must be base64');
    if (Buffer.from(value.photo, 'base64').length > MAX_PHOTO_BYTES) invalid('photo', `at most ${MAX_PHOTO_BYTES} bytes`);
  }
  checkList('allergies', value.allergies, ALLERGY_RECORD_COUNT, 'DF02/EF07', false);
  checkList('immunisations', value.immunisations, IMMUNISATION_RECORD_COUNT, 'DF02/EF08', false);
  checkList('inpatient', value.inpatient, INPATIENT_VISIT_COUNT, 'DF03/EE', true);
  checkList('outpatient', value.outpatient, OUTPATIENT_VISIT_COUNT, 'DF03/ED', true);
  if (value.province !== undefined && (typeof value.province !== 'string' || !/^\d{2}$/.test(value.province))) invalid('province', 'must be two digits');
  const city = items[0x39];
  if (value.province === undefined && (typeof city !== 'string' || !/^\d{6}$/.test(city))) {
    invalid('items.57', 'a six-digit city code (or a province field) is needed for the key diversification');
  }
  if (value.keysBlocked !== undefined) {
    if (!Array.isArray(value.keysBlocked)) invalid('keysBlocked', 'must be an array of key names');
    value.keysBlocked.forEach((k, i) => {
      if (typeof k !== 'string' || !Object.hasOwn(KEYS, k) || KEYS[k as KeyName].cardRef === undefined) invalid(`keysBlocked[${i}]`, 'not a card key name');
    });
  }
  if (value.keyTries !== undefined) {
    if (!isObject(value.keyTries)) invalid('keyTries', 'must be an object of key name → tries');
    for (const [k, n] of Object.entries(value.keyTries)) {
      if (!Object.hasOwn(KEYS, k) || KEYS[k as KeyName].cardRef === undefined) invalid(`keyTries.${k}`, 'not a card key name');
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 15) invalid(`keyTries.${k}`, 'must be an integer 0..15');
    }
  }
  return value as unknown as HealthCardProfile;
}

/** The province (two digits) whose keys the card holds. */
export function provinceOfProfile(profile: HealthCardProfile): string {
  return profile.province ?? (profile.items[0x39] as string).slice(0, 2);
}
