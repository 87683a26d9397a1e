// Seeded generator of synthetic cardholders: GBK names, GB 11643 ID numbers (real district code of
// the card's city, birth date, sex-parity sequence, ISO 7064 MOD 11-2 check character), real GB/T 2260
// city codes, phones, codes from the national tables, allergies, immunisations, a few visits with their
// index flags and a small JPEG photo. The same seed gives the same profile on every machine.
import { hexUpper } from '../../common/hex.ts';
import { idCheckCharacter } from '../../apdu/healthcard/validation.ts';
import { SeededRandom } from '../card-os/seeded-random.ts';
import { GIVEN_FEMALE, GIVEN_MALE, SURNAMES } from './cardholder-names.ts';
import { CITIES, citiesOfProvince, type City } from './city-codes.ts';
import type { HealthCardProfile, ItemValues } from './profile.ts';
import { syntheticPhoto } from './synthetic-photo.ts';
import { inpatientVisit, outpatientVisit } from './visit-generator.ts';

export interface GenerateOptions {
  /** Pick the city among this province's (two digits, e.g. "44"); default any city. */
  province?: string;
  /** Pick exactly this city (a code of city-codes.ts). */
  cityCode?: string;
  /** Leave the photo out. */
  noPhoto?: boolean;
}

/** Generation is anchored to a fixed day, never to the clock, so profiles are reproducible. */
const REFERENCE_YEAR = 2026;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function randomDate(r: SeededRandom, fromYear: number, toYear: number): string {
  const y = r.between(fromYear, toYear);
  const m = r.between(1, 12);
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return `${y}${pad(m, 2)}${pad(r.between(1, days), 2)}`;
}

function randomPhone(r: SeededRandom): string {
  return `1${r.between(3, 9)}${pad(r.int(1e9), 9)}`;
}

function randomName(r: SeededRandom, male: boolean): string {
  const given = male ? GIVEN_MALE : GIVEN_FEMALE;
  const n = r.chance(0.7) ? 2 : 1;
  let name = r.pick(SURNAMES);
  for (let i = 0; i < n; i++) name += r.pick(given);
  return name;
}

/** A valid GB 11643 number for someone born on `birthDate` in `districtCode`. */
function idNumber(r: SeededRandom, districtCode: string, birthDate: string, male: boolean): string {
  // The 17th digit is odd for men, even for women.
  const sequence = r.between(0, 99) * 10 + (male ? r.pick([1, 3, 5, 7, 9]) : r.pick([0, 2, 4, 6, 8]));
  const first17 = `${districtCode}${birthDate}${pad(sequence, 3)}`;
  return first17 + idCheckCharacter(first17);
}

function chooseCity(r: SeededRandom, options: GenerateOptions): City {
  if (options.cityCode) {
    const c = CITIES.find((x) => x.code === options.cityCode);
    if (!c) throw new RangeError('unknown city code for the generator');
    return c;
  }
  const pool = options.province ? citiesOfProvince(options.province) : [...CITIES];
  if (pool.length === 0) throw new RangeError('no city of that province in the generator table');
  return r.pick(pool);
}

const ALLERGENS: ReadonlyArray<[string, string]> = [
  ['青霉素', '皮疹，瘙痒'], ['头孢类抗生素', '荨麻疹'], ['磺胺类药物', '发热，皮疹'], ['阿司匹林', '哮喘发作'],
  ['海鲜', '口唇肿胀'], ['花粉', '鼻塞，流涕'], ['芒果', '口周红疹'], ['碘造影剂', '恶心，呼吸困难'],
];
const VACCINES = ['卡介苗', '乙肝疫苗', '脊灰疫苗', '百白破疫苗', '麻腮风疫苗', '乙脑疫苗', '甲肝疫苗', '水痘疫苗', '流感疫苗', '新冠疫苗'];
const RELATIONS = ['10', '20', '30', '51', '52'];
const EDUCATION = ['10', '20', '30', '60', '70', '80'];
const MARITAL = ['10', '20', '30', '40'];
const OCCUPATIONS = ['100', '200', '300', '400', '500', '600'];
const PAYMENT = ['01', '02', '03', '05', '07'];
const ALERTS = ['青霉素皮试阳性', '长期服用抗凝药', '对乳胶过敏'];


function address(r: SeededRandom, city: City): string {
  const district = r.pick(city.districts);
  return `${city.province === city.name ? '' : city.province}${city.name}${district.name}${r.pick(city.streets)}${r.between(1, 300)}号${r.between(1, 20)}栋${r.between(1, 30)}${pad(r.between(1, 4), 2)}室`;
}

export function generateProfile(seed: number | string, options: GenerateOptions = {}): HealthCardProfile {
  const r = new SeededRandom(`profile:${seed}:${options.cityCode ?? options.province ?? ''}`);
  const city = chooseCity(r, options);
  const male = r.chance(0.5);
  const birthDate = randomDate(r, 1945, 2018);
  const birthYear = Number(birthDate.slice(0, 4));
  const district = r.pick(city.districts);
  const id = idNumber(r, district.code, birthDate, male);
  const card8 = r.bytes(8);
  const issueDate = randomDate(r, 2016, 2024);
  const expiry = `${Number(issueDate.slice(0, 4)) + 10}${issueDate.slice(4)}`.replace(/0229$/, '0228');
  const adult = REFERENCE_YEAR - birthYear >= 18;
  const contact = (): [string, string, string] => [randomName(r, r.chance(0.5)), r.pick(RELATIONS), randomPhone(r)];
  const [c1, c2] = [contact(), contact()];
  const flag = (p: number): string => (r.chance(p) ? '01' : '00');

  const items: ItemValues = {
    0x01: '1', 0x02: '0002', 0x03: `${city.name}卫生健康委员会`, 0x04: `${city.code}${pad(r.int(1e5), 5)}`,
    0x05: hexUpper(r.bytes(180)), 0x06: issueDate, 0x08: id, 0x09: pad(r.int(1000), 3), 0x0a: hexUpper(card8.subarray(0, 5)),
    0x39: city.code,
    0x0b: randomName(r, male), 0x0c: male ? '01' : '02', 0x0d: r.chance(0.85) ? '01' : pad(r.between(2, 56), 2),
    0x0e: birthDate, 0x0f: id,
    0x07: expiry, 0x10: randomPhone(r), 0x11: r.chance(0.4) ? randomPhone(r) : null,
    0x12: r.pick(PAYMENT), 0x13: r.chance(0.3) ? r.pick(PAYMENT) : null, 0x14: null,
    0x15: '01', 0x16: address(r, city), 0x17: r.chance(0.5) ? '02' : null, 0x18: null,
    0x19: c1[0], 0x1a: c1[1], 0x1b: c1[2], 0x1c: c2[0], 0x1d: c2[1], 0x1e: c2[2], 0x1f: null, 0x20: null, 0x21: null,
    0x22: adult ? r.pick(EDUCATION) : '80', 0x23: adult ? r.pick(MARITAL) : '10', 0x24: adult ? r.pick(OCCUPATIONS) : null,
    0x25: '01', 0x26: id, 0x27: `${city.code}${pad(r.int(1e9), 11)}`, 0x28: null,
    0x29: r.pick(['01', '02', '03', '04']), 0x2a: r.chance(0.99) ? '02' : '01',
    0x2b: flag(0.08), 0x2c: flag(0.06), 0x2d: flag(0.1), 0x2e: flag(0.02), 0x2f: flag(0.02), 0x30: flag(0.1),
    0x31: flag(0.03), 0x32: flag(0.01), 0x33: flag(0.01), 0x34: flag(0.01), 0x35: flag(0.02), 0x36: flag(0.01),
    0x37: r.chance(0.2) ? r.pick(ALERTS) : null, 0x38: '00',
  };
  if (items[0x17]) items[0x18] = address(r, city);

  const allergies = Array.from({ length: r.int(4) }, () => {
    const [substance, reaction] = r.pick(ALLERGENS);
    return { 58: substance, 59: reaction };
  });
  // Immunisations newest first, after birth and before the reference year.
  const shots = VACCINES.slice(0, r.between(1, VACCINES.length)).map((v) => ({ 60: v, 61: randomDate(r, Math.min(birthYear + 1, REFERENCE_YEAR - 1), REFERENCE_YEAR - 1) }));
  shots.sort((a, b) => b[61].localeCompare(a[61]));

  const inpatientCount = r.int(3);
  const outpatientCount = r.between(1, 4);
  const inpatient = [0, 1, 2].map((i) => (i < inpatientCount ? inpatientVisit(r, city, birthYear) : null));
  const outpatient = [0, 1, 2, 3, 4].map((i) => (i < outpatientCount ? outpatientVisit(r, city, birthYear) : null));

  return {
    seed,
    card8: hexUpper(card8),
    items,
    photo: options.noPhoto ? null : Buffer.from(syntheticPhoto(r)).toString('base64'),
    allergies,
    immunisations: shots,
    inpatient,
    outpatient,
    province: city.code.slice(0, 2),
  };
}
