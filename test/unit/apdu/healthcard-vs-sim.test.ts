// The host reader/authorizer/writer against the simulated health card and SAM (firmware-sim/cards),
// through a tiny CardChannel adapter over SimCard.process: nothing else of the simulator is used.
import { describe, expect, it } from 'vitest';
import type { CardChannel } from '../../../apdu/card-channel.ts';
import { runBatchSequentially } from '../../../apdu/batch.ts';
import type { SimCard } from '../../../firmware-sim/sim-card.ts';
import { createBlankCpuCard, createHealthCard, createSam, createTransitCard } from '../../../firmware-sim/cards/index.ts';
import { generateProfile } from '../../../firmware-sim/personalisation/index.ts';
import { HealthCardReader } from '../../../apdu/healthcard/health-card-reader.ts';
import { SamAuthorizer } from '../../../apdu/healthcard/sam-authorizer.ts';

/** The adapter: one transmit = one SimCard.process; optional batching with a batch counter. */
function simChannel(card: SimCard, protocol: 0 | 1, batch = false): CardChannel & { batches: number } {
  const ch: CardChannel & { batches: number } = {
    batches: 0,
    transmit: async (c) => card.process(c, protocol).response,
  };
  if (batch) ch.transmitBatch = async (cmds) => { ch.batches++; return runBatchSequentially({ transmit: ch.transmit }, cmds); };
  return ch;
}

function setUp(seed: number, opts: { batch?: boolean; samProvince?: string; protocol?: 0 | 1 } = {}) {
  const profile = generateProfile(seed);
  const card = createHealthCard(profile);
  const atr = card.powerOn();
  const sam = createSam({ province: opts.samProvince ?? profile.items[0x39]!.slice(0, 2) });
  sam.powerOn();
  const authorizer = new SamAuthorizer(simChannel(sam, 0), { pin: '123456' });
  const reader = new HealthCardReader(simChannel(card, opts.protocol ?? 1, opts.batch), { atr, authorizer });
  return { profile, card, sam, atr, authorizer, reader };
}

describe('HealthCardReader against the simulated card', () => {
  it.each([[1, true], [0, false], [0, true]] as const)('reads the whole card back equal to the generated profile (T=%i, batch %s)', async (protocol, batch) => {
    const { profile, reader } = setUp(1, { batch, protocol });
    const p = await reader.readProfile();
    for (let n = 1; n <= 57; n++) expect(p.items[n], `item ${n}`).toEqual(profile.items[n] ?? null);
    expect(p.photo ?? null).toEqual(profile.photo ?? null);
    expect(p.allergies).toEqual(profile.allergies ?? []);
    expect(p.immunisations).toEqual(profile.immunisations ?? []);
    const norm = (list: Array<Record<number, string | null> | null> | undefined, first: number, last: number) =>
      (list ?? []).map((v) => (v ? Object.fromEntries(Array.from({ length: last - first + 1 }, (_, i) => [first + i, v[first + i] ?? null])) : null));
    expect(norm(p.inpatient, 64, 212)).toEqual(norm(profile.inpatient, 64, 212));
    expect(norm(p.outpatient, 213, 384)).toEqual(norm(profile.outpatient, 213, 384));
  });
});

import { HealthCardWriter } from '../../../apdu/healthcard/health-card-writer.ts';
import { itemsOfFile } from '../../../apdu/healthcard/data-items.ts';
import { idCheckCharacter } from '../../../apdu/healthcard/validation.ts';
import { jpegOf } from '../../support/jpeg.ts';

function sampleVisit(group: 'DF03/EE' | 'DF03/ED'): Record<number, string | null> {
  const v: Record<number, string | null> = {};
  for (const d of itemsOfFile(group)) {
    if (d.format === 'an') v[d.itemNo] = d.length >= 4 ? '测试A'.slice(0, Math.min(3, d.length / 2)) : 'A';
    else if (d.format === 'b') v[d.itemNo] = '01'.repeat(d.length);
    else if (/DateTime$/.test(d.field)) v[d.itemNo] = '20250102030405';
    else if (/Date$/.test(d.field)) v[d.itemNo] = '20250102';
    else v[d.itemNo] = '1'.repeat(Math.min(2 * d.length, 3));
  }
  return v;
}

describe('HealthCardWriter against the simulated card', () => {
  it('writes TLV items (SM), photo, cyclic appends, visits and erases; read-back equals what was written', async () => {
    const { card, atr, authorizer, reader, profile } = setUp(2, { batch: true });
    const writer = new HealthCardWriter(simChannel(card, 1, true), { atr, authorizer });
    const id17 = '11010119900307123';
    const id = id17 + idCheckCharacter(id17);
    const photo = jpegOf(Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff));
    const ee = sampleVisit('DF03/EE');
    const ed = sampleVisit('DF03/ED');
    const result = await writer.write({
      items: { 0x0b: '李四', 0x0f: id, 0x10: '13800000000', 0x16: '北京市东城区测试路1号', 0x37: null, 0x38: '01' },
      photo,
      addAllergies: [{ 58: '青霉素', 59: '皮疹' }],
      addImmunisations: [{ 60: '乙肝疫苗', 61: '20250101' }, { 60: '麻疹疫苗', 61: '20240101' }],
      inpatient: [{ slot: 3, values: ee, signature: 'AB'.repeat(64), certificate: 'CD'.repeat(190) }],
      outpatient: [{ slot: 5, values: ed }],
      eraseOutpatient: [1],
    });
    expect(result.files).toEqual(['DDF1/EF06', 'DDF1/EF08', 'DDF1/EF07', 'DF01/EF05', 'DF02/EF05', 'DF02/EF06', 'DF02/EF07', 'DF02/EF08', 'DF03/EE03', 'DF03/ED05', 'DF03/EF06']);
    expect(result.items).toContain(0x0b);
    expect(result.items).toContain(300);

    card.powerOff();
    const atr2 = card.powerOn();
    const r2 = new HealthCardReader(simChannel(card, 1, true), { atr: atr2, authorizer });
    const p = await r2.readProfile();
    void reader;
    expect(p.items[0x0b]).toBe('李四');
    expect(p.items[0x0f]).toBe(id);
    expect(p.items[0x10]).toBe('13800000000');
    expect(p.items[0x16]).toBe('北京市东城区测试路1号');
    expect(p.items[0x37]).toBeNull();
    expect(p.items[0x38]).toBe('01');
    expect(p.items[0x0e]).toBe(profile.items[0x0e]);
    expect(Buffer.from(p.photo!, 'base64')).toEqual(Buffer.from(photo));
    expect(p.allergies![0]).toEqual({ 58: '青霉素', 59: '皮疹' });
    expect(p.immunisations!.slice(0, 2)).toEqual([{ 60: '乙肝疫苗', 61: '20250101' }, { 60: '麻疹疫苗', 61: '20240101' }]);
    expect(p.inpatient![2]).toEqual(ee);
    const ee3 = (await r2.readFiles(['DF03/EE03'])).files['DF03/EE03'];
    expect(ee3).toMatchObject({ kind: 'visit', valid: true, signature: 'AB'.repeat(64), certificate: 'CD'.repeat(190) });
    expect(p.outpatient![4]).toEqual(ed);
    expect(p.outpatient![0]).toBeNull();
  });

  it('removes the photo and erases a visit slot over T=0 (read back: no photo, slot invalid)', async () => {
    const { card, atr, authorizer, profile } = setUp(11);
    const filled = (profile.inpatient ?? []).findIndex((v) => v !== null);
    const slot = filled >= 0 ? filled + 1 : 1;
    const writer = new HealthCardWriter(simChannel(card, 0), { atr, authorizer });
    const r = await writer.write({ photo: null, eraseInpatient: [slot] });
    expect(r.files).toEqual(['DDF1/EF07', 'DF03/EF05']);
    const read = await new HealthCardReader(simChannel(card, 0), { atr, authorizer }).readFiles(['DDF1/EF07', `DF03/EE0${slot}` as 'DF03/EE01']);
    expect(read.files['DDF1/EF07']).toMatchObject({ kind: 'photo', length: 0, base64: null });
    expect(read.files[`DF03/EE0${slot}` as 'DF03/EE01']).toMatchObject({ kind: 'visit', valid: false });
  });

  it('validates everything before touching the card', async () => {
    const sent: string[] = [];
    const writer = new HealthCardWriter({ transmit: async (c) => { sent.push(Buffer.from(c).toString('hex')); return Uint8Array.of(0x90, 0); } }, { atr: setUp(3).atr, authorizer: setUp(3).authorizer });
    await expect(writer.write({ items: { 0x0b: '王五', 0x0f: '110101199003071230' } })).rejects.toMatchObject({ code: 'ITEM_VALUE_INVALID', details: { itemNo: 15 } });
    await expect(writer.write({ items: { 0x0c: '05' } })).rejects.toMatchObject({ code: 'ITEM_VALUE_INVALID' });
    await expect(writer.write({ items: { 0x0e: '20230230' } })).rejects.toMatchObject({ code: 'ITEM_VALUE_INVALID' });
    await expect(writer.write({ items: { 0x0b: 'x'.repeat(31) } })).rejects.toMatchObject({ code: 'ITEM_VALUE_TOO_LONG' });
    await expect(writer.write({ items: { 100: 'x' } })).rejects.toMatchObject({ code: 'UNKNOWN_ITEM' });
    await expect(writer.write({ inpatient: [{ slot: 4, values: {} }] })).rejects.toMatchObject({ code: 'UNKNOWN_ITEM' });
    await expect(writer.write({ inpatient: [{ slot: 2, values: {} }], eraseInpatient: [2] })).rejects.toMatchObject({ code: 'ITEM_VALUE_INVALID', details: { slot: 2 } });
    await expect(writer.write({ outpatient: [{ slot: 1, values: {} }, { slot: 1, values: {} }] })).rejects.toMatchObject({ code: 'ITEM_VALUE_INVALID', details: { slot: 1 } });
    await expect(writer.write({ eraseOutpatient: [3, 3] })).rejects.toMatchObject({ code: 'ITEM_VALUE_INVALID' });
    expect(sent).toEqual([]);
  });
});

describe('typed failures against the simulated card and SAM', () => {
  it('refuses a transit card and a blank card with NOT_A_HEALTH_CARD', async () => {
    for (const card of [createTransitCard(), createBlankCpuCard()]) {
      const atr = card.powerOn();
      await expect(new HealthCardReader(simChannel(card, 1), { atr }).identify()).rejects.toMatchObject({ code: 'NOT_A_HEALTH_CARD' });
    }
  });

  it('reads the free DDF1/EF05 without a SAM, and names NO_SAM for protected files', async () => {
    const profile = generateProfile(4);
    const card = createHealthCard(profile);
    const atr = card.powerOn();
    const reader = new HealthCardReader(simChannel(card, 1), { atr });
    const r = await reader.readFiles(['DDF1/EF05']);
    const ef05 = r.files['DDF1/EF05'];
    expect(ef05?.kind === 'tlv' && ef05.fields.cityCode).toBe(profile.items[0x39]);
    await expect(reader.readFiles(['DDF1/EF06'])).rejects.toMatchObject({ code: 'NO_SAM' });
  });

  it('refuses a card from another province before spending a card try', async () => {
    const { reader, card, profile } = setUp(5, { samProvince: '65' });
    expect(profile.items[0x39]!.slice(0, 2)).not.toBe('65');
    await expect(reader.readFiles(['DDF1/EF06'])).rejects.toMatchObject({ code: 'CARD_FROM_OTHER_PROVINCE' });
    expect(card.triesLeft('RK_DDF1')).toBe(15);
  });

  it('reports a wrong SAM PIN with the tries left, and a blocked card key', async () => {
    const profile = generateProfile(6);
    const card = createHealthCard(profile);
    const atr = card.powerOn();
    const sam = createSam({ province: profile.items[0x39]!.slice(0, 2) });
    sam.powerOn();
    const wrong = new SamAuthorizer(simChannel(sam, 0), { pin: '654321' });
    await expect(new HealthCardReader(simChannel(card, 1), { atr, authorizer: wrong }).readFiles(['DDF1/EF06']))
      .rejects.toMatchObject({ code: 'SAM_PIN_WRONG', details: { triesLeft: 2 } });
    const blocked = createHealthCard({ ...profile, keysBlocked: ['RK_DF02'] });
    const atr2 = blocked.powerOn();
    const ok = new SamAuthorizer(simChannel(sam, 0), { pin: '123456' });
    await expect(new HealthCardReader(simChannel(blocked, 1), { atr: atr2, authorizer: ok }).readFiles(['DF02/EF05']))
      .rejects.toMatchObject({ code: 'CARD_KEY_BLOCKED' });
  });

  it('reads twice with the same reader (security state re-established after re-identifying)', async () => {
    const { reader, profile } = setUp(10, { batch: true });
    const a = await reader.readFiles(['DDF1/EF06']);
    const b = await reader.readFiles(['DDF1/EF06']);
    expect(b.files).toEqual(a.files);
    const ef06 = b.files['DDF1/EF06'];
    expect(ef06?.kind === 'tlv' && ef06.fields.name).toBe(profile.items[0x0b]);
  });

  it('reads by item number, joins with |, and marks empty visit slots invalid', async () => {
    const { reader, profile } = setUp(8, { batch: true });
    const r = await reader.readItems([0x0b, 0x0c, 0x39, 64], { join: true, record: 3 });
    const slot3 = profile.inpatient?.[2];
    expect(r.items.map((i) => i.value)).toEqual([profile.items[0x0b], profile.items[0x0c], profile.items[0x39], slot3 ? slot3[64] ?? null : null]);
    expect(r.items[3].invalid ?? false).toBe(!slot3);
    expect(r.joined).toBe(r.items.map((i) => i.value ?? '').join('|'));
    await expect(reader.readItems([385])).rejects.toMatchObject({ code: 'UNKNOWN_ITEM' });
  });

  it('raises PARTIAL_WRITE naming what was written before a failure', async () => {
    const profile = generateProfile(9);
    const card = createHealthCard({ ...profile, keysBlocked: ['UK_DF02_1'] });
    const atr = card.powerOn();
    const sam = createSam({ province: profile.items[0x39]!.slice(0, 2) });
    sam.powerOn();
    const writer = new HealthCardWriter(simChannel(card, 1, true), { atr, authorizer: new SamAuthorizer(simChannel(sam, 0), { pin: '123456' }) });
    const e = await writer.write({ items: { 0x10: '13900000000', 0x22: '20', 0x38: '01' } }).catch((x) => x);
    expect(e.code).toBe('PARTIAL_WRITE');
    expect(e.details).toMatchObject({ writtenFiles: ['DDF1/EF08', 'DF01/EF07'], writtenItems: [0x10, 0x22], failedFile: 'DF02/EF06', causeCode: 'CARD_KEY_BLOCKED' });
    // A refusal (the key is blocked: nothing was sent for item 0x38) is "not written", never "uncertain".
    expect(e.details).toMatchObject({
      written: [{ kind: 'item', file: 'DDF1/EF08', items: [0x10] }, { kind: 'item', file: 'DF01/EF07', items: [0x22] }],
      uncertain: [],
      notWritten: [{ kind: 'item', file: 'DF02/EF06', items: [0x38] }],
      uncertainItems: [],
      notWrittenItems: [0x38],
    });
    expect(e.message).toMatch(/Written: item 16, item 34\. Not written: item 56\. Read the card back before retrying/);
  });
});
