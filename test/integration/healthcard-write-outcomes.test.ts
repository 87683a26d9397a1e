// Write outcomes through the whole daemon (HTTP API → service → reader model → protocol session with
// the secure channel → in-process simulated reader), with the simulator's fault injection: a card
// pulled out right after the card acknowledged an UPDATE RECORD (known issue K1 of the reliability
// suite: the answer was 409 CARD_CHANGED), or while the UPDATE RECORD was in flight. The 422
// PARTIAL_WRITE body carries PartialWriteDetails as documented in the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Harness } from '../reliability/kit/daemon-harness.ts';
import { freshCard, reinsert } from '../reliability/faults/card-harness.ts';

const SEED = 4711;
const VALUES = { 16: '13987654321', 22: '北京市西城区测试街5号', 25: '测试丙' };
const WRITE = '/v1/readers/sim-1/healthcard/items';

let h: Harness;
/** Card APDU numbers (1-based, per card insertion) of the three secure UPDATE RECORDs (04 DC). */
let updates: number[];

beforeAll(async () => {
  h = await startDaemon({ seed: SEED });
  await freshCard(h, SEED);
  await h.inject('PUT', '/v1/readers/sim-1/trace', { enabled: true, clear: true, maskData: true });
  const w = await h.inject('PUT', WRITE, { items: VALUES });
  expect(w.status).toBe(200);
  const entries = (await h.inject('GET', '/v1/readers/sim-1/trace')).body.entries as Array<{ dir: string; slot: number; hex: string }>;
  await h.inject('PUT', '/v1/readers/sim-1/trace', { enabled: false, clear: true });
  const commands = entries.filter((e) => e.dir === 'command' && e.slot === 1);
  updates = commands.flatMap((e, i) => (e.hex.replace(/\s/g, '').toUpperCase().startsWith('04DC') ? [i + 1] : []));
  expect(updates).toHaveLength(3);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function readBack(): Promise<Record<number, string | null>> {
  const r = await h.inject('GET', '/v1/readers/sim-1/healthcard/items?ids=16,22,25');
  expect(r.status).toBe(200);
  return Object.fromEntries(r.body.items.map((i: { itemNo: number; value: string | null }) => [i.itemNo, i.value]));
}

async function writeWithRemoval(when: 'before' | 'during' | 'after', apdu: number) {
  await freshCard(h, SEED);
  const before = await readBack();
  const card = await freshCard(h, SEED); // the fault counts APDUs from the insertion
  await h.sim.injectFault({ fault: 'remove-card', slot: 1, when, apdu });
  const w = await h.inject('PUT', WRITE, { items: VALUES });
  await reinsert(h, card);
  return { w, before, after: await readBack() };
}

describe('PUT healthcard/items with the card pulled out', () => {
  it('right after the card acknowledged an UPDATE RECORD (K1): 422 PARTIAL_WRITE lists the item as written', async () => {
    const { w, before, after } = await writeWithRemoval('after', updates[0]);
    expect(w.status).toBe(422);
    expect(w.body.error.code).toBe('PARTIAL_WRITE');
    expect(w.body.error.details).toEqual({
      written: [{ kind: 'item', file: 'DDF1/EF08', items: [16] }],
      uncertain: [],
      notWritten: [{ kind: 'item', file: 'DF01/EF05', items: [22] }, { kind: 'item', file: 'DF01/EF06', items: [25] }],
      writtenFiles: ['DDF1/EF08'],
      writtenItems: [16],
      uncertainItems: [],
      notWrittenItems: [22, 25],
      failedFile: 'DF01/EF05',
      causeCode: expect.stringMatching(/^(CARD_CHANGED|NO_CARD)$/),
    });
    expect(w.body.error.message).toMatch(/Read the card back before retrying/);
    expect(after).toEqual({ 16: VALUES[16], 22: before[22], 25: before[25] });
  });

  it('right after the last UPDATE RECORD was acknowledged: 200, every item written', async () => {
    const { w, after } = await writeWithRemoval('after', updates[2]);
    expect(w.status).toBe(200);
    expect(w.body.written.items).toEqual([16, 22, 25]);
    expect(after).toEqual(VALUES);
  });

  it('while an UPDATE RECORD was in flight: the item is uncertain (here the card had executed it)', async () => {
    const { w, before, after } = await writeWithRemoval('during', updates[1]);
    expect(w.status).toBe(422);
    expect(w.body.error.details).toMatchObject({
      written: [{ kind: 'item', file: 'DDF1/EF08', items: [16] }],
      uncertain: [{ kind: 'item', file: 'DF01/EF05', items: [22], reason: 'no-answer' }],
      notWritten: [{ kind: 'item', file: 'DF01/EF06', items: [25] }],
      causeCode: 'CARD_REMOVED',
    });
    expect(w.body.error.message).toMatch(/Uncertain .*item 22/);
    expect(w.body.error.message).toMatch(/duplicate/);
    expect(after).toEqual({ 16: VALUES[16], 22: VALUES[22], 25: before[25] });
  });

  it('other 422 refusals of the write route keep their own details', async () => {
    h.sim.insertCard(1, { kind: 'transit' });
    await h.until('card present', () => h.app.registry.get('sim-1').toJSON().slots[0].card === 'present');
    const w = await h.inject('PUT', WRITE, { items: VALUES });
    expect(w.status).toBe(422);
    expect(w.body.error.code).toBe('NOT_A_HEALTH_CARD');
    expect(w.body.error.details).toMatchObject({ sw: expect.any(String) });
  });

  it('the OpenAPI document describes the 422 body and PartialWriteDetails', async () => {
    const doc = (await h.inject('GET', '/v1/openapi.json')).body;
    const put = doc.paths['/v1/readers/{id}/healthcard/items'].put;
    expect(put.responses['422'].content['application/json'].schema).toMatchObject({ $ref: '#/components/schemas/WriteError' });
    expect(put.description).toMatch(/uncertain/);
    const details = doc.components.schemas.PartialWriteDetails;
    expect(details.required).toEqual(expect.arrayContaining(['written', 'uncertain', 'notWritten', 'uncertainItems']));
    expect(details.properties.uncertain.items).toEqual({ $ref: '#/components/schemas/WriteUnit' });
    expect(doc.components.schemas.WriteUnit.properties.reason.enum).toEqual(['no-answer', 'partly-written', 'card-memory-changed']);
  });
});
