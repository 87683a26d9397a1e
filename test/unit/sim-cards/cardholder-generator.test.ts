import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeCardText } from '../../../apdu/healthcard/gb18030-text.ts';
import { isCityCodeShape, isValidDate } from '../../../apdu/healthcard/validation.ts';
import { createHealthCard } from '../../../firmware-sim/cards/index.ts';
import {
  CITIES, ProfileError, generateProfile, loadProfile, serialiseProfile, validateProfile, type HealthCardProfile,
} from '../../../firmware-sim/personalisation/index.ts';

/** ISO 7064 MOD 11-2 computed the recursive way (independent of the weight table used by the code). */
function mod11_2(first17: string): string {
  let p = 0;
  for (const ch of first17) p = ((p + Number(ch)) * 2) % 11;
  const check = (12 - p) % 11;
  return check === 10 ? 'X' : String(check);
}

const SEEDS = Array.from({ length: 120 }, (_, i) => i);

describe('the synthetic cardholder generator', () => {
  it('the independent check-digit routine agrees with the GB 11643 example 11010519491231002X', () => {
    expect(mod11_2('11010519491231002')).toBe('X');
  });

  it('ID numbers are valid: real district of the card city, birth date = item 14, sex parity = item 12, check digit', () => {
    for (const seed of SEEDS) {
      const p = generateProfile(seed);
      const id = p.items[15] as string;
      const city = CITIES.find((c) => c.code === p.items[57]);
      expect(city, `seed ${seed}`).toBeDefined();
      expect(city!.districts.map((d) => d.code)).toContain(id.slice(0, 6));
      expect(id.slice(6, 14)).toBe(p.items[14]);
      expect(isValidDate(id.slice(6, 14))).toBe(true);
      expect(Number(id[16]) % 2 === 1 ? '01' : '02').toBe(p.items[12]);
      expect(id[17]).toBe(mod11_2(id.slice(0, 17)));
      expect(p.items[8]).toBe(id);
      expect(p.province).toBe((p.items[57] as string).slice(0, 2));
    }
  });

  it('names are GBK, phones look valid, dates are real, immunisations newest first after birth', () => {
    for (const seed of SEEDS) {
      const p = generateProfile(seed);
      const name = p.items[11] as string;
      expect(name.length).toBeGreaterThanOrEqual(2);
      expect(encodeCardText(name).length).toBe(name.length * 2);
      expect(p.items[16]).toMatch(/^1[3-9]\d{9}$/);
      for (const tag of [6, 7, 14]) expect(isValidDate(p.items[tag] as string), `item ${tag}`).toBe(true);
      const dates = (p.immunisations ?? []).map((i) => i[61] as string);
      expect([...dates].sort().reverse()).toEqual(dates);
      for (const d of dates) expect(d > (p.items[14] as string)).toBe(true);
      expect(p.allergies!.length).toBeLessThanOrEqual(3);
      expect(p.inpatient).toHaveLength(3);
      expect(p.outpatient).toHaveLength(5);
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(generateProfile(7)).toEqual(generateProfile(7));
    expect(generateProfile('qa-run')).toEqual(generateProfile('qa-run'));
    expect(generateProfile(7).card8).not.toBe(generateProfile(8).card8);
    expect(generateProfile(7).items[15]).not.toBe(generateProfile(8).items[15]);
  });

  it('honours a province or a city', () => {
    for (const seed of SEEDS.slice(0, 20)) {
      expect((generateProfile(seed, { province: '44' }).items[57] as string).startsWith('44')).toBe(true);
      expect(generateProfile(seed, { cityCode: '510100' }).items[57]).toBe('510100');
    }
    expect(() => generateProfile(1, { province: '99' })).toThrow(RangeError);
  });

  it('the city table holds real prefecture codes across provinces with their districts', () => {
    const codes = CITIES.map((c) => c.code);
    for (const c of ['110100', '310100', '440100', '440300', '510100', '330100']) expect(codes).toContain(c);
    expect(new Set(codes.map((c) => c.slice(0, 2))).size).toBeGreaterThanOrEqual(8);
    for (const city of CITIES) {
      expect(isCityCodeShape(city.code)).toBe(true);
      expect(city.code.endsWith('00')).toBe(true);
      for (const d of city.districts) expect(d.code.slice(0, 4)).toBe(city.code.slice(0, 4));
    }
  });

  it('the photo is a small baseline JPEG (SOI, SOF0 96×128, EOI)', () => {
    for (const seed of SEEDS.slice(0, 20)) {
      const photo = Buffer.from(generateProfile(seed).photo!, 'base64');
      expect(photo.length).toBeGreaterThan(200);
      expect(photo.length).toBeLessThanOrEqual(2048);
      expect(photo.subarray(0, 2).toString('hex')).toBe('ffd8');
      expect(photo.subarray(-2).toString('hex')).toBe('ffd9');
      const sof = photo.indexOf(Buffer.from([0xff, 0xc0]));
      expect(sof).toBeGreaterThan(0);
      expect(photo.readUInt16BE(sof + 5)).toBe(128);
      expect(photo.readUInt16BE(sof + 7)).toBe(96);
    }
    expect(generateProfile(1, { noPhoto: true }).photo).toBeNull();
  });

  it('every generated profile passes the schema, survives JSON, and personalises a card', () => {
    for (const seed of SEEDS.slice(0, 40)) {
      const p = generateProfile(seed);
      const copy = JSON.parse(serialiseProfile(p)) as HealthCardProfile;
      expect(validateProfile(copy)).toEqual(p);
      expect(() => createHealthCard(copy)).not.toThrow();
    }
  });
});

describe('profile loading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yika-profile-'));
  const write = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const code = (f: () => unknown): { code?: string; path?: unknown; message?: string } => {
    try {
      f();
    } catch (e) {
      if (e instanceof ProfileError) return { code: e.code, path: e.details?.path, message: e.message };
      throw e;
    }
    return {};
  };

  it('loads the committed example profiles', () => {
    for (const name of ['beijing', 'guangdong']) {
      const p = loadProfile(new URL(`../../fixtures/profiles/${name}.json`, import.meta.url).pathname);
      expect(p.card8).toMatch(/^[0-9A-F]{16}$/);
    }
  });

  it('fails with typed, value-free errors', () => {
    expect(code(() => loadProfile(join(dir, 'missing.json'))).code).toBe('PROFILE_NOT_FOUND');
    expect(code(() => loadProfile(write('bad.json', '{"card8": "0102'))).code).toBe('PROFILE_NOT_JSON');
    const good = generateProfile(3);
    const bad = (patch: Record<string, unknown>) => code(() => validateProfile({ ...good, ...patch }));
    expect(bad({ card8: 'XYZ' })).toMatchObject({ code: 'PROFILE_INVALID', path: 'card8' });
    expect(bad({ items: { ...good.items, 11: '名'.repeat(16) } })).toMatchObject({ path: 'items.11' });
    expect(bad({ items: { ...good.items, 11: '名'.repeat(16) } }).message).not.toContain('名');
    expect(bad({ items: { ...good.items, 99: 'x' } })).toMatchObject({ path: 'items.99' });
    expect(bad({ items: { ...good.items, 14: '1990-01-01' } })).toMatchObject({ path: 'items.14' });
    expect(bad({ items: { ...good.items, 12: 'Z1' } })).toMatchObject({ path: 'items.12' });
    expect(bad({ photo: Buffer.alloc(3071).toString('base64') })).toMatchObject({ path: 'photo' });
    expect(bad({ photo: 'not base64!' })).toMatchObject({ path: 'photo' });
    expect(bad({ allergies: [{ 58: 'a' }, { 58: 'b' }, { 58: 'c' }, { 58: 'd' }] })).toMatchObject({ path: 'allergies' });
    expect(bad({ allergies: [{ 60: 'a' }] })).toMatchObject({ path: 'allergies[0].60' });
    expect(bad({ inpatient: [null, { 213: 'x' }] })).toMatchObject({ path: 'inpatient[1].213' });
    expect(bad({ keysBlocked: ['STK_DDF1'] })).toMatchObject({ path: 'keysBlocked[0]' });
    expect(bad({ keyTries: { RK_DDF1: 16 } })).toMatchObject({ path: 'keyTries.RK_DDF1' });
    expect(bad({ nickname: 'x' })).toMatchObject({ path: 'nickname' });
    expect(bad({ items: { ...good.items, 57: null }, province: undefined })).toMatchObject({ path: 'items.57' });
    expect(code(() => validateProfile([]))).toMatchObject({ path: '$' });
    expect(code(() => createHealthCard({ ...good, card8: '00' }))).toMatchObject({ code: 'PROFILE_INVALID' });
  });
});
