// The "writes every writable item" scenario of the acceptance criteria, shared by the transport tests
// (PTY serial line, PC/SC through pcscd + vpcd): over the HTTP API only (the typed client), it
//  1. reads the whole card (the "before" state);
//  2. writes, in one request, EVERY writable TLV item (derived from the file map: items whose file has
//     an update key) with a new valid value taken from synthetic profiles of other seeds in the card's
//     province (so ID numbers, dates and city codes are valid, and the SAM still diversifies the keys),
//     a new photo, allergy and immunisation appends, and a full visit (every field 64–212 / 213–384) in
//     every inpatient (EE01–EE03) and outpatient (ED01–ED05) slot;
//  3. reads the whole card back (and a few items through the items route, JSON and pipe) and compares
//     item by item;
//  4. sends a second request erasing some slots and clearing some optional items (null), and compares
//     again: erased slots invalid, cleared items null, everything else as after step 2.
// Assertions use vitest's expect; the function returns counts for the test's own checks and logs.
import { expect } from 'vitest';
import { DATA_ITEMS, itemsOfFile, type DataItem, type ItemFile } from '../../apdu/healthcard/data-items.ts';
import {
  ALLERGY_RECORD_COUNT, ELEMENTARY_FILES, IMMUNISATION_RECORD_COUNT, INPATIENT_VISIT_COUNT, OUTPATIENT_VISIT_COUNT,
  type ElementaryFile,
} from '../../apdu/healthcard/file-map.ts';
import { YikaClient, type HealthCardRead, type HealthCardWriteRequest } from '../../daemon/client/index.ts';
import { TEST_TOKEN } from './api-token.ts';
import { CITIES, generateProfile, type HealthCardProfile } from '../../firmware-sim/personalisation/index.ts';

type Values = Record<number, string | null>;

/** The card as the scenario compares it (item numbers as keys). */
export interface CardState {
  items: Values;
  photo: string | null;
  allergies: Values[];
  immunisations: Values[];
  /** EE01–EE03 / ED01–ED05, null when the slot's index flag is FF. */
  inpatient: Array<Values | null>;
  outpatient: Array<Values | null>;
  /** Signature and certificate of each valid visit file, keyed by file id. */
  tails: Record<string, { signature: string | null; certificate: string | null }>;
}

export interface WriteEverythingOptions {
  /** Seeds the new values (default 1); another seed gives other values. */
  seed?: number;
  /** Per-request timeout of the client (default 120 s: a full write over a slow link is long). */
  timeoutMs?: number;
  /** Called with a line per step (durations), e.g. console.log. */
  log?: (line: string) => void;
}

export interface WriteEverythingReport {
  /** TLV items written and verified (every writable item). */
  tlvItems: number[];
  /** TLV items that are not writable (none in the file map today), verified unchanged. */
  notWritable: number[];
  /** Writable items whose only valid value is the current one (written and verified, not different). */
  unchangedByDesign: number[];
  /** Units of the first request: TLV items + photo + appended records + visits. */
  firstRequestUnits: number;
  /** Visit items written and verified (every field of every slot). */
  visitItems: number;
  /** Units of the second request (erases + cleared items). */
  secondRequestUnits: number;
  erasedInpatient: number[];
  erasedOutpatient: number[];
  clearedItems: number[];
  durationsMs: { readBefore: number; write: number; readBack: number; erase: number; readAfterErase: number };
}

const TLV_FILES: readonly ElementaryFile[] = ELEMENTARY_FILES.filter((f) => f.content === 'tlv-records');

/** Writable TLV items: their file has an update key (file-map.ts). */
function writableTlvItems(): DataItem[] {
  const writableFiles = new Set(TLV_FILES.filter((f) => f.updateKey !== undefined).map((f) => f.id as string));
  return DATA_ITEMS.filter((d) => d.tag !== undefined && writableFiles.has(d.file));
}

/** Items whose only valid value is fixed by the specification (card type, spec version "0002"). */
const FIXED_VALUE_ITEMS = new Set([0x01, 0x02]);
/** Optional items the second request clears (null = FF). */
const CLEARED_ITEMS = [0x11, 0x18, 0x1f, 0x20, 0x21, 0x37];
const ERASE_INPATIENT = [2];
const ERASE_OUTPATIENT = [1, 4];

/** Decodes GET /v1/readers/:id/healthcard into a CardState. */
function cardStateOf(read: HealthCardRead): CardState {
  const state: CardState = {
    items: {}, photo: null, allergies: [], immunisations: [],
    inpatient: Array(INPATIENT_VISIT_COUNT).fill(null), outpatient: Array(OUTPATIENT_VISIT_COUNT).fill(null), tails: {},
  };
  const values = (items: Array<{ itemNo: number; value: string | null }> | undefined): Values =>
    Object.fromEntries((items ?? []).map((i) => [i.itemNo, i.value]));
  for (const [id, f] of Object.entries(read.files)) {
    if (f.kind === 'tlv') Object.assign(state.items, values(f.items));
    else if (f.kind === 'photo') state.photo = f.base64 ?? null;
    else if (f.kind === 'records') {
      const list = (f.records ?? []).slice().sort((a, b) => a.record - b.record).map((r) => values(r.items));
      if (id === 'DF02/EF07') state.allergies = list;
      else state.immunisations = list;
    } else if (f.kind === 'visit' && f.valid) {
      const list = id.startsWith('DF03/EE') ? state.inpatient : state.outpatient;
      list[f.record! - 1] = values(f.items);
      state.tails[id] = { signature: f.signature ?? null, certificate: f.certificate ?? null };
    }
  }
  return state;
}

// ---- new values ----------------------------------------------------------------------------------

const TEXT_POOL = '健康卡写入测试住院门诊记录数据核对完整字段';

/** Text of exactly `length` GBK bytes (2-byte characters, an ASCII digit when odd), varied by `salt`. */
function fullText(length: number, salt: number): string {
  let s = '';
  for (let i = 0; i < Math.floor(length / 2); i++) s += TEXT_POOL[(salt + i) % TEXT_POOL.length];
  return length % 2 ? s + String(salt % 10) : s;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** A value valid for the item's format and code checks, different from `avoid`, varied by `salt`. */
function fallbackValue(d: DataItem, salt: number, avoid: string | null | undefined): string {
  for (let k = 0; ; k++) {
    const s = salt + k;
    let v: string;
    if (d.format === 'an') v = /phone/i.test(d.field) ? `139${pad((s * 7919) % 1e8, 8)}` : fullText(d.length, s);
    else if (d.format === 'b') {
      v = d.length === 1 ? ['00', '01', '02', '03'][s % 4] : Array.from({ length: d.length }, (_, i) => (((s + i) * 37) & 0xff).toString(16).padStart(2, '0')).join('').toUpperCase();
    } else if (/DateTime$/.test(d.field) && d.length === 7) v = `20${pad(10 + (s % 15), 2)}${pad(1 + (s % 12), 2)}${pad(1 + (s % 28), 2)}${pad(s % 24, 2)}${pad(s % 60, 2)}${pad((s * 7) % 60, 2)}`;
    else if (/Date$/.test(d.field) && d.length === 4) v = `20${pad(10 + (s % 15), 2)}${pad(1 + (s % 12), 2)}${pad(1 + (s % 28), 2)}`;
    else v = Array.from({ length: 2 * d.length }, (_, i) => String((s + i * 3) % 10)).join('');
    if (d.itemNo === 0x0d) v = pad(1 + (s % 56), 2); // ethnicity GB 3304
    if (v !== avoid) return v;
  }
}

/** Other synthetic cardholders of the card's province: the source of realistic new values. */
function candidateProfiles(seed: number, province: string): HealthCardProfile[] {
  return Array.from({ length: 8 }, (_, i) => generateProfile(`write-everything:${seed}:${i}`, { province }));
}

function newTlvValues(before: CardState, writable: DataItem[], candidates: HealthCardProfile[]): Values {
  const current = before.items;
  const out: Values = {};
  // The identity items come from one cardholder (ID number, card number, document number, sex and birth
  // date consistent), of the other sex so that the sex code changes too.
  const person = candidates.find((p) => p.items[0x0c] !== current[0x0c] && p.items[0x0f] !== current[0x0f]) ?? candidates[0];
  const identity = new Set([0x08, 0x0b, 0x0c, 0x0e, 0x0f, 0x26]);
  // Same province (the SAM diversifies the keys with it), another city when the table has one, else
  // the province-level code (a real GB/T 2260 code).
  const city = current[0x39]!;
  const province = `${city.slice(0, 2)}0000`;
  const otherCity = CITIES.find((c) => c.code.slice(0, 2) === city.slice(0, 2) && c.code !== city)?.code ?? (city === province ? `${city.slice(0, 2)}0100` : province);
  for (const d of writable) {
    const n = d.itemNo;
    let v: string | null | undefined;
    if (n === 0x39) v = otherCity;
    else if (FIXED_VALUE_ITEMS.has(n)) v = current[n] ?? candidates[0].items[n];
    else if (identity.has(n)) v = person.items[n];
    else v = candidates.map((p) => p.items[n]).find((x) => x !== null && x !== undefined && x !== current[n]);
    if (v === null || v === undefined || (v === current[n] && !FIXED_VALUE_ITEMS.has(n))) v = fallbackValue(d, n * 31, current[n]);
    out[n] = v;
  }
  return out;
}

/** A visit with every field of the layout written (full-length text), realistic fields from a profile on top. */
function fullVisit(group: ItemFile, slot: number, realistic: Values | null | undefined): Values {
  const v: Values = {};
  for (const d of itemsOfFile(group)) v[d.itemNo] = fallbackValue(d, slot * 1000 + d.itemNo, null);
  for (const [k, x] of Object.entries(realistic ?? {})) if (x !== null) v[Number(k)] = x;
  return v;
}

function realisticVisits(candidates: HealthCardProfile[], kind: 'inpatient' | 'outpatient'): Values[] {
  return candidates.flatMap((p) => (p[kind] ?? []).filter((x): x is Values => x !== null));
}

// ---- the scenario --------------------------------------------------------------------------------

function expectState(actual: CardState, expected: CardState, step: string): void {
  for (let n = 1; n <= 57; n++) expect([step, n, actual.items[n] ?? null]).toEqual([step, n, expected.items[n] ?? null]);
  expect(Buffer.from(actual.photo ?? '', 'base64').equals(Buffer.from(expected.photo ?? '', 'base64')), `${step}: photo bytes`).toBe(true);
  expect(actual.photo, `${step}: photo`).toEqual(expected.photo);
  expect(actual.allergies, `${step}: allergies (newest first)`).toEqual(expected.allergies);
  expect(actual.immunisations, `${step}: immunisations (newest first)`).toEqual(expected.immunisations);
  for (const [kind, list] of [['inpatient', actual.inpatient], ['outpatient', actual.outpatient]] as const) {
    list.forEach((visit, i) => {
      const want = expected[kind][i];
      if (want === null) expect(visit, `${step}: ${kind} slot ${i + 1} invalid`).toBeNull();
      else {
        expect(visit, `${step}: ${kind} slot ${i + 1} valid`).not.toBeNull();
        for (const k of Object.keys(want)) expect([step, kind, i + 1, Number(k), visit![Number(k)] ?? null]).toEqual([step, kind, i + 1, Number(k), want[Number(k)]]);
        expect(Object.keys(visit!).length, `${step}: ${kind} slot ${i + 1} item count`).toBe(Object.keys(want).length);
      }
    });
  }
  expect(actual.tails, `${step}: visit signatures and certificates`).toEqual(expected.tails);
}

export async function writeEverything(baseUrl: string, readerId: string, options: WriteEverythingOptions = {}): Promise<WriteEverythingReport> {
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => {});
  const client = new YikaClient({ baseUrl, timeoutMs: options.timeoutMs ?? 120_000, token: TEST_TOKEN });
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const r = await fn();
    return [r, Math.round(performance.now() - t0)];
  };

  // 1. Before.
  const [firstRead, readBefore] = await timed(() => client.readHealthCard(readerId, { files: ['all'] }));
  expect(Object.keys(firstRead.files)).toHaveLength(ELEMENTARY_FILES.length);
  const before = cardStateOf(firstRead);
  expect(before.items[0x39], 'the card has a city code').toMatch(/^\d{6}$/);

  // 2. The first request: everything writable, new values.
  const writable = writableTlvItems();
  const writableNos = new Set(writable.map((d) => d.itemNo));
  const notWritable = DATA_ITEMS.filter((d) => d.tag !== undefined && !writableNos.has(d.itemNo)).map((d) => d.itemNo);
  const candidates = candidateProfiles(seed, before.items[0x39]!.slice(0, 2));
  const items = newTlvValues(before, writable, candidates);
  const unchangedByDesign = writable.map((d) => d.itemNo).filter((n) => items[n] === before.items[n]);
  expect(unchangedByDesign.filter((n) => !FIXED_VALUE_ITEMS.has(n)), 'every writable item gets a new value').toEqual([]);

  const photo = candidates.map((p) => p.photo).find((x) => x && x !== before.photo)!;
  expect(photo).toBeTruthy();
  const addAllergies: Values[] = [
    { 58: fullText(20, seed), 59: fullText(100, seed + 1) },
    { 58: '青霉素', 59: '皮疹伴瘙痒' },
  ];
  const addImmunisations: Values[] = [
    { 60: fullText(20, seed + 2), 61: '20260105' },
    { 60: '乙肝疫苗第3剂', 61: '20251120' },
    { 60: '流感疫苗', 61: '20241015' },
  ];
  const inReal = realisticVisits(candidates, 'inpatient');
  const outReal = realisticVisits(candidates, 'outpatient');
  // Odd inpatient slots also carry the record's signature and certificate (hex); the others none (FF).
  const tail = (slot: number) => slot % 2 === 1
    ? { signature: Buffer.alloc(64, 0x10 + slot).toString('hex').toUpperCase(), certificate: Buffer.alloc(190, 0x20 + slot).toString('hex').toUpperCase() }
    : {};
  const inpatient = Array.from({ length: INPATIENT_VISIT_COUNT }, (_, i) => ({ slot: i + 1, values: fullVisit('DF03/EE', i + 1, inReal[i]), ...tail(i + 1) }));
  const outpatient = Array.from({ length: OUTPATIENT_VISIT_COUNT }, (_, i) => ({ slot: i + 1, values: fullVisit('DF03/ED', i + 1, outReal[i]) }));
  for (const v of inpatient) expect(v.values).not.toEqual(before.inpatient[v.slot - 1]);
  for (const v of outpatient) expect(v.values).not.toEqual(before.outpatient[v.slot - 1]);
  const request: HealthCardWriteRequest = { items, photo, addAllergies, addImmunisations, inpatient, outpatient };
  const [result, write] = await timed(() => client.writeItems(readerId, request));
  expect(new Set(result.written.items)).toEqual(new Set([
    ...writableNos, 58, 59, 60, 61, ...itemsOfFile('DF03/EE').map((d) => d.itemNo), ...itemsOfFile('DF03/ED').map((d) => d.itemNo),
  ]));

  // 3. Read back and compare.
  const expected1: CardState = {
    items: { ...before.items, ...items },
    photo,
    allergies: [...addAllergies, ...before.allergies].slice(0, ALLERGY_RECORD_COUNT),
    immunisations: [...addImmunisations, ...before.immunisations].slice(0, IMMUNISATION_RECORD_COUNT),
    inpatient: inpatient.map((v) => v.values),
    outpatient: outpatient.map((v) => v.values),
    tails: Object.fromEntries([
      ...inpatient.map((v) => [`DF03/EE0${v.slot}`, { signature: v.signature ?? null, certificate: v.certificate ?? null }]),
      ...outpatient.map((v) => [`DF03/ED0${v.slot}`, { signature: null, certificate: null }]),
    ]),
  };
  const [afterWrite, readBack] = await timed(() => client.readHealthCard(readerId, { files: ['all'] }));
  const state1 = cardStateOf(afterWrite);
  expectState(state1, expected1, 'after write');
  for (const n of notWritable) expect([n, state1.items[n]]).toEqual([n, before.items[n]]);
  for (const idx of ['DF03/EF05', 'DF03/EF06']) expect(afterWrite.files[idx].flags!.every((f) => f.valid), `${idx} all valid`).toBe(true);

  // A few through the items route (the vendor "by item" API), JSON and pipe.
  const some = [0x0b, 0x0c, 0x0f, 0x16, 0x39];
  expect(await client.readItems(readerId, some, { format: 'pipe' })).toBe(some.map((n) => items[n] ?? '').join('|'));
  const newest = await client.readItems(readerId, [58, 59, 60, 61], { record: 1 });
  expect(newest.items.map((i) => i.value)).toEqual([addAllergies[0][58], addAllergies[0][59], addImmunisations[0][60], addImmunisations[0][61]]);
  const ee = [64, 65, 100, 212];
  expect(await client.readItems(readerId, ee, { format: 'pipe', record: 2 })).toBe(ee.map((n) => inpatient[1].values[n] ?? '').join('|'));
  const ed = [213, 250, 384];
  expect(await client.readItems(readerId, ed, { format: 'pipe', record: 4 })).toBe(ed.map((n) => outpatient[3].values[n] ?? '').join('|'));

  // 4. The second request: erase some slots, clear some optional items; everything else stays.
  const cleared: Values = Object.fromEntries(CLEARED_ITEMS.map((n) => [n, null]));
  const [, erase] = await timed(() =>
    client.writeItems(readerId, { items: cleared, eraseInpatient: ERASE_INPATIENT, eraseOutpatient: ERASE_OUTPATIENT }));
  const expected2: CardState = {
    ...expected1,
    items: { ...expected1.items, ...cleared },
    inpatient: expected1.inpatient.map((v, i) => (ERASE_INPATIENT.includes(i + 1) ? null : v)),
    outpatient: expected1.outpatient.map((v, i) => (ERASE_OUTPATIENT.includes(i + 1) ? null : v)),
    tails: Object.fromEntries(Object.entries(expected1.tails).filter(([id]) => {
      const slot = Number(id.slice(-1));
      return !(id.startsWith('DF03/EE') ? ERASE_INPATIENT : ERASE_OUTPATIENT).includes(slot);
    })),
  };
  const [afterErase, readAfterErase] = await timed(() => client.readHealthCard(readerId, { files: ['all'] }));
  expectState(cardStateOf(afterErase), expected2, 'after erase');
  expect(afterErase.files['DF03/EF05'].flags!.map((f) => f.valid)).toEqual([1, 2, 3].map((s) => !ERASE_INPATIENT.includes(s)));
  expect(afterErase.files['DF03/EF06'].flags!.map((f) => f.valid)).toEqual([1, 2, 3, 4, 5].map((s) => !ERASE_OUTPATIENT.includes(s)));
  for (const s of ERASE_INPATIENT) expect(afterErase.files[`DF03/EE0${s}`]).toMatchObject({ kind: 'visit', valid: false });
  for (const s of ERASE_OUTPATIENT) expect(afterErase.files[`DF03/ED0${s}`]).toMatchObject({ kind: 'visit', valid: false });
  const erased = await client.readItems(readerId, [64, 65], { record: ERASE_INPATIENT[0] });
  expect(erased.items.map((i) => [i.value, i.invalid])).toEqual([[null, true], [null, true]]);
  expect(await client.readItems(readerId, [213, 214], { format: 'pipe', record: ERASE_OUTPATIENT[0] })).toBe('|');
  expect(await client.readItems(readerId, CLEARED_ITEMS, { format: 'pipe' })).toBe(CLEARED_ITEMS.map(() => '').join('|'));

  const visitItems = INPATIENT_VISIT_COUNT * itemsOfFile('DF03/EE').length + OUTPATIENT_VISIT_COUNT * itemsOfFile('DF03/ED').length;
  const report: WriteEverythingReport = {
    tlvItems: writable.map((d) => d.itemNo),
    notWritable,
    unchangedByDesign,
    firstRequestUnits: writable.length + 1 + addAllergies.length + addImmunisations.length + inpatient.length + outpatient.length,
    visitItems,
    secondRequestUnits: CLEARED_ITEMS.length + ERASE_INPATIENT.length + ERASE_OUTPATIENT.length,
    erasedInpatient: ERASE_INPATIENT,
    erasedOutpatient: ERASE_OUTPATIENT,
    clearedItems: CLEARED_ITEMS,
    durationsMs: { readBefore, write, readBack, erase, readAfterErase },
  };
  log(`write-everything ${readerId}: ${report.tlvItems.length} TLV items, ${visitItems} visit items in ${inpatient.length + outpatient.length} slots, `
    + `${report.firstRequestUnits} units then ${report.secondRequestUnits}; ms ${JSON.stringify(report.durationsMs)}; write ${result.apdus} APDUs / ${result.roundTrips} round trips`);
  return report;
}
