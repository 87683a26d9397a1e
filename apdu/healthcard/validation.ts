// Checks a value can pass before it goes to a card: GB 11643 citizen ID numbers (ISO 7064 MOD 11-2
// check digit), GB/T 2260 city code shape, calendar dates, GB/T 2261.1 sex codes. Pure functions, also
// used by the simulator's profile generator.

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** ISO 7064 MOD 11-2 check character of the first 17 digits of a GB 11643 number. */
export function idCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError('need 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11];
}

/** A valid 18-character citizen ID number: 6-digit division code, birth date, sequence, check character. */
export function isValidIdNumber(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  if (!isCityCodeShape(id.slice(0, 6))) return false;
  if (!isValidDate(id.slice(6, 14))) return false;
  return idCheckCharacter(id.slice(0, 17)) === id[17];
}

/**
 * GB/T 2260 shape: the health card's city code is 6 digits (province 11–82, prefecture, county; the
 * 3-byte cn item), province-level codes end in 0000. A shape check only: the list itself changes yearly.
 */
export function isCityCodeShape(code: string): boolean {
  if (!/^\d{6}$/.test(code)) return false;
  const province = Number(code.slice(0, 2));
  return province >= 11 && province <= 82;
}

/** Province prefix (first two digits) of a city code. */
export function provinceOf(cityCode: string): string {
  return cityCode.slice(0, 2);
}

/** YYYYMMDD, a real calendar day between 1800-01-01 and 2099-12-31. */
export function isValidDate(yyyymmdd: string): boolean {
  if (!/^\d{8}$/.test(yyyymmdd)) return false;
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  if (y < 1800 || y > 2099 || m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** YYYYMMDDhhmmss (the cn7 date-times of the visit records). */
export function isValidDateTime(s: string): boolean {
  if (!/^\d{14}$/.test(s) || !isValidDate(s.slice(0, 8))) return false;
  return Number(s.slice(8, 10)) < 24 && Number(s.slice(10, 12)) < 60 && Number(s.slice(12, 14)) < 60;
}

/** GB/T 2261.1 sex codes as the card stores them (b1 → hex): 0 unknown, 1 male, 2 female, 9 unspecified. */
const SEX_CODES: Readonly<Record<string, string>> = { '00': 'unknown', '01': 'male', '02': 'female', '09': 'unspecified' };

export function isValidSexCode(hex: string): boolean {
  return Object.hasOwn(SEX_CODES, hex.toUpperCase());
}

/** A phone number as the card stores it: digits, an optional leading +, single - or space separators. */
export function isValidPhone(s: string): boolean {
  return /^\+?[0-9]+(?:[- ][0-9]+)*$/.test(s);
}

/**
 * A JPEG file: starts with the SOI marker and a segment marker (FF D8 FF) and ends with EOI (FF D9).
 * The card's photo file holds a JPEG; anything else would be shown as a broken picture by every reader.
 */
export function isJpeg(bytes: Uint8Array): boolean {
  const n = bytes.length;
  return n >= 5 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff && bytes[n - 2] === 0xff && bytes[n - 1] === 0xd9;
}
