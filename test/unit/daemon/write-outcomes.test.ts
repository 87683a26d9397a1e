// A card removed around the APDUs of a write, through the daemon's reader model and health-card
// service, on the simulated reader with its fault injection (firmware-sim/faults: remove-card before,
// during or after APDU N). Two promises are checked:
// - the reader channel never throws away a response the card gave, even when the card-removed event
//   overtakes it (as on a serial link, where the card-detect interrupt can arrive before the response
//   frame): known issue K1 of the reliability suite;
// - a write reports every unit exactly: written (acknowledged), uncertain (sent, no answer) or not
//   written (never sent), and the card read back agrees.
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../daemon/events/event-bus.ts';
import { ReaderRegistry } from '../../../daemon/readers/reader-registry.ts';
import { protocolDevice } from '../../../daemon/devices/protocol-device.ts';
import { HealthCardService } from '../../../daemon/services/health-card-service.ts';
import { SimulatedReader } from '../../../firmware-sim/reader/simulated-reader.ts';
import { FaultInjector } from '../../../firmware-sim/faults/fault-injector.ts';
import { createHealthCard, createSam, generateProfile, type HealthCardProfile } from '../../../firmware-sim/cards/index.ts';
import type { SimCard } from '../../../firmware-sim/sim-card.ts';
import type { ReaderOperations } from '../../../protocol/operations.ts';
import type { PartialWriteDetails } from '../../../apdu/healthcard/health-card-writer.ts';
import { EchoCard } from './echo-card.ts';
import { attachSettled } from './sim-reader-device.ts';

const USER = 1;
const SAM1 = 0x11;

/**
 * The simulated reader behind a link that hands each answer back one event-loop turn late, after the
 * device events raised meanwhile (a removal "after APDU N" happens right after the answer leaves the
 * card): the order a serial or TCP link can produce.
 */
function slowAnswers(sim: SimulatedReader): ReaderOperations {
  const late = async <T>(p: Promise<T>): Promise<T> => {
    const v = await p;
    await new Promise((r) => setImmediate(r));
    return v;
  };
  return {
    hello: (r) => sim.hello(r),
    slotStatus: (s) => sim.slotStatus(s),
    powerOn: (s) => sim.powerOn(s),
    powerOff: (s) => sim.powerOff(s),
    resetCard: (s) => sim.resetCard(s),
    setParams: (s, p) => sim.setParams(s, p),
    transmit: (s, a) => late(sim.transmit(s, a)),
    transmitBatch: (s, c) => late(sim.transmitBatch(s, c)),
    ping: () => sim.ping(),
    deviceReset: () => sim.deviceReset(),
    deviceInfo: () => sim.deviceInfo(),
  };
}

async function desk() {
  const sim = new SimulatedReader();
  const faults = new FaultInjector(1);
  sim.faults = faults.hooks;
  const ops = slowAnswers(sim);
  const hello = await sim.hello({ versions: [1], maxFrame: 65536 });
  const device = protocolDevice({ kind: 'sim', key: 'write-outcomes', ops, hello, secure: { policy: 'off', state: 'unsupported' }, subscribe: (l) => sim.on(l), close: async () => {} });
  const registry = new ReaderRegistry({ events: new EventBus(), lockTimeoutMs: 5000 });
  await attachSettled(registry, device); // the registry reads the (empty) slot states once
  const reader = registry.get('sim-1');
  const service = new HealthCardService({ registry, samPin: '123456' });
  const removeAt = (when: 'before' | 'during' | 'after', apdu: number) => faults.inject({ fault: 'remove-card', slot: USER, when, apdu });
  return { sim, reader, service, removeAt };
}

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

describe('reader channel: a response the card gave is returned, even when the removal overtakes it', () => {
  it('transmit returns the answer; the next transmit fails CARD_CHANGED before anything is sent', async () => {
    const { sim, reader, removeAt } = await desk();
    const card = new EchoCard();
    sim.insertCard(USER, card);
    await removeAt('after', 1);
    await reader.session('t', async (s) => {
      await s.powerOn(USER);
      const ch = s.channel(USER);
      const response = await ch.transmit(hex('00DC010400'));
      expect(Buffer.from(response).toString('hex')).toBe('00dc01049000');
      // The removal reached the reader model before the answer came back.
      expect(s.slot(USER).card).toBe('absent');
      await expect(ch.transmit(hex('00B0000000'))).rejects.toMatchObject({ code: 'CARD_CHANGED' });
    });
    expect(card.seen).toEqual(['00dc010400']);
  });

  it('a split batch returns the part that ran, with interrupted = CARD_CHANGED, and sends nothing more', async () => {
    const { sim, reader, removeAt } = await desk();
    const card = new EchoCard();
    sim.insertCard(USER, card);
    await removeAt('after', 64); // the last command of the first part (the simulator batches 64)
    const result = await reader.session('t', async (s) => {
      await s.powerOn(USER);
      return s.channel(USER).transmitBatch!(Array.from({ length: 70 }, (_, i) => ({ apdu: Uint8Array.from([0, 0xd6, 0, i, 1, i]) })));
    });
    expect(result.responses).toHaveLength(64);
    expect(result.stoppedAt).toBeUndefined();
    expect(result.interrupted).toMatchObject({ code: 'CARD_CHANGED' });
    expect(card.seen).toHaveLength(64);
  });

  it('a card swapped between two APDUs of a read still fails the read with CARD_CHANGED (no mixing of two cards)', async () => {
    const { sim, reader, service, removeAt } = await desk();
    const profile = generateProfile(31);
    insertCards(sim, profile);
    await removeAt('after', 3);
    const read = reader.session('swap', async (s) => {
      await s.ensurePowered(USER);
      const ch = s.channel(USER);
      await ch.transmit(hex('00A40000023F00'));
      await ch.transmit(hex('00A4000002DDF1'));
      await ch.transmit(hex('00A4000002EF05'));
      // Another card goes in and is powered: the channel still belongs to the first one.
      sim.insertCard(USER, createHealthCard(generateProfile(32)));
      await s.powerOn(USER);
      return ch.transmit(hex('00B2010400'));
    });
    await expect(read).rejects.toMatchObject({ code: 'CARD_CHANGED' });
    // The reader serves the new card normally afterwards.
    await expect(service.readItems('sim-1', [57])).resolves.toMatchObject({ items: [{ itemNo: 57 }] });
  });
});

// Three items in three files, each written with GET CHALLENGE + secure UPDATE RECORD (04 DC).
const ITEMS = [16, 22, 25] as const;
const VALUES = { 16: '13912345678', 22: '北京市海淀区测试路8号', 25: '测试乙' };

function insertCards(sim: SimulatedReader, profile: HealthCardProfile): SimCard {
  const card = createHealthCard(profile);
  sim.insertCard(USER, card);
  if (!sim.cardIn(SAM1)) {
    const sam = createSam({ province: profile.items[0x39]!.slice(0, 2) });
    sim.insertCard(SAM1, sam);
  }
  return card;
}

/** Card APDU numbers (1-based, as the fault injector counts them) of the secure UPDATE RECORDs of a write. */
async function updateRecordApdus(profile: HealthCardProfile): Promise<number[]> {
  const { sim, service } = await desk();
  insertCards(sim, profile);
  const seen: string[] = [];
  const transmit = sim.transmit.bind(sim);
  const transmitBatch = sim.transmitBatch.bind(sim);
  sim.transmit = (slot, apdu) => { if (slot === USER) seen.push(Buffer.from(apdu.subarray(0, 2)).toString('hex')); return transmit(slot, apdu); };
  sim.transmitBatch = (slot, cmds) => { if (slot === USER) for (const c of cmds) seen.push(Buffer.from(c.apdu.subarray(0, 2)).toString('hex')); return transmitBatch(slot, cmds); };
  await service.write('sim-1', { items: VALUES });
  return seen.flatMap((h, i) => (h === '04dc' ? [i + 1] : []));
}

async function readBack(sim: SimulatedReader, service: HealthCardService, card: SimCard): Promise<Record<number, string | null>> {
  sim.insertCard(USER, card);
  const r = await service.readItems('sim-1', [...ITEMS]);
  return Object.fromEntries(r.items.map((i) => [i.itemNo, i.value]));
}

async function writeWithRemoval(seed: number, when: 'before' | 'during' | 'after', apdu: number) {
  const { sim, service, removeAt } = await desk();
  const profile = generateProfile(seed);
  const card = insertCards(sim, profile);
  await removeAt(when, apdu);
  const outcome = await service.write('sim-1', { items: VALUES }).then((ok) => ({ ok, error: undefined }), (error) => ({ ok: undefined, error }));
  const after = await readBack(sim, service, card);
  const before = Object.fromEntries(ITEMS.map((n) => [n, profile.items[n] ?? null]));
  return { ...outcome, details: outcome.error?.details as PartialWriteDetails | undefined, after, before };
}

const itemsOf = (units: Array<{ items: number[] }> | undefined) => (units ?? []).flatMap((u) => u.items);

describe('health-card write: every item reported written, uncertain or not written, and the card agrees', () => {
  const seed = 41;

  it('K1: an UPDATE RECORD the card acknowledged is reported written although the card left right after its answer', async () => {
    const updates = await updateRecordApdus(generateProfile(seed));
    expect(updates).toHaveLength(3);
    const r = await writeWithRemoval(seed, 'after', updates[0]);
    expect(r.error).toMatchObject({ code: 'PARTIAL_WRITE' });
    expect(r.details).toMatchObject({ writtenItems: [16], uncertain: [], uncertainItems: [], notWrittenItems: [22, 25] });
    expect(r.details!.written).toEqual([{ kind: 'item', file: 'DDF1/EF08', items: [16] }]);
    expect(['CARD_CHANGED', 'NO_CARD']).toContain(r.details!.causeCode);
    expect(r.after).toEqual({ 16: VALUES[16], 22: r.before[22], 25: r.before[25] });
  });

  it('K1 at the last APDU: the write succeeds and lists every item', async () => {
    const updates = await updateRecordApdus(generateProfile(seed));
    const r = await writeWithRemoval(seed, 'after', updates[2]);
    expect(r.error).toBeUndefined();
    expect(r.ok?.written.items).toEqual([16, 22, 25]);
    expect(r.after).toEqual(VALUES);
  });

  it('an acknowledged item stays written when the next APDU fails with CARD_REMOVED', async () => {
    const updates = await updateRecordApdus(generateProfile(seed));
    const r = await writeWithRemoval(seed, 'during', updates[0] + 1); // GET CHALLENGE for item 22
    expect(r.details).toMatchObject({ writtenItems: [16], uncertainItems: [], notWrittenItems: [22, 25], causeCode: 'CARD_REMOVED' });
    expect(r.after).toEqual({ 16: VALUES[16], 22: r.before[22], 25: r.before[25] });
  });

  it('an UPDATE RECORD in flight when the card left (executed, answer lost) is reported uncertain, and it was applied', async () => {
    const updates = await updateRecordApdus(generateProfile(seed));
    const r = await writeWithRemoval(seed, 'during', updates[1]);
    expect(r.error).toMatchObject({ code: 'PARTIAL_WRITE' });
    expect(r.details).toMatchObject({ writtenItems: [16], uncertainItems: [22], notWrittenItems: [25], failedFile: 'DF01/EF05', causeCode: 'CARD_REMOVED' });
    expect(r.details!.uncertain).toEqual([{ kind: 'item', file: 'DF01/EF05', items: [22], reason: 'no-answer' }]);
    expect(r.details!.notWritten).toEqual([{ kind: 'item', file: 'DF01/EF06', items: [25] }]);
    expect(r.error.message).toMatch(/Read the card back before retrying/);
    expect(r.error.message).toMatch(/duplicate/);
    expect(r.after).toEqual({ 16: VALUES[16], 22: VALUES[22], 25: r.before[25] });
  });

  it('an UPDATE RECORD lost before the card executed it is reported uncertain too (the host cannot tell), and it was not applied', async () => {
    const updates = await updateRecordApdus(generateProfile(seed));
    const r = await writeWithRemoval(seed, 'before', updates[0]);
    expect(r.error).toMatchObject({ code: 'PARTIAL_WRITE' });
    expect(r.details).toMatchObject({ written: [], writtenItems: [], uncertainItems: [16], notWrittenItems: [22, 25] });
    expect(r.after).toEqual(r.before);
  });

  it('a failure before any UPDATE was sent keeps its own error (nothing can have changed)', async () => {
    const updates = await updateRecordApdus(generateProfile(seed));
    const r = await writeWithRemoval(seed, 'during', updates[0] - 1); // GET CHALLENGE for item 16
    expect(r.error).toMatchObject({ code: 'CARD_REMOVED' });
    expect(r.after).toEqual(r.before);
  });

  it('appended records in a batch that lost its answer are uncertain, each named by its position in the request', async () => {
    const { sim, service, removeAt } = await desk();
    const profile = generateProfile(seed);
    const card = insertCards(sim, profile);
    const before = (await service.read('sim-1', { files: ['DF02/EF07'] })).files['DF02/EF07'];
    // Find the batch of appends (00 DC 00 03) on a twin card, then remove the card during the first append.
    const twin = await desk();
    insertCards(twin.sim, profile);
    const seen: string[] = [];
    const tb = twin.sim.transmitBatch.bind(twin.sim);
    const tt = twin.sim.transmit.bind(twin.sim);
    twin.sim.transmit = (slot, apdu) => { if (slot === USER) seen.push(Buffer.from(apdu.subarray(0, 4)).toString('hex')); return tt(slot, apdu); };
    twin.sim.transmitBatch = (slot, cmds) => { if (slot === USER) for (const c of cmds) seen.push(Buffer.from(c.apdu.subarray(0, 4)).toString('hex')); return tb(slot, cmds); };
    const request = { addAllergies: [{ 58: '头孢', 59: '荨麻疹' }, { 58: '花粉', 59: '哮喘' }] };
    await twin.service.write('sim-1', request);
    const firstAppend = seen.indexOf('00dc0003') + 1;
    expect(firstAppend).toBeGreaterThan(0);

    sim.insertCard(USER, card);
    await removeAt('during', firstAppend);
    const e = await service.write('sim-1', request).catch((x) => x);
    expect(e).toMatchObject({ code: 'PARTIAL_WRITE', details: { written: [], causeCode: 'CARD_REMOVED' } });
    const d = e.details as PartialWriteDetails;
    expect(d.uncertain.map((u) => [u.kind, u.index, u.reason])).toEqual([['allergy', 0, 'no-answer'], ['allergy', 1, 'no-answer']]);
    expect(itemsOf(d.notWritten)).toEqual([]);
    expect(e.message).toMatch(/allergy record 1, allergy record 2/);
    // The card executed the first append (the older record, index 1) and left: exactly one record is new.
    sim.insertCard(USER, card);
    const now = (await service.read('sim-1', { files: ['DF02/EF07'] })).files['DF02/EF07'];
    const substances = (f: unknown) => (f as { records: Array<{ fields: { allergySubstance: string } }> }).records.map((r) => r.fields.allergySubstance);
    expect(substances(now)).toEqual(['花粉', ...substances(before)]);
  });
});

import { HealthCardWriter } from '../../../apdu/healthcard/health-card-writer.ts';
import { SamAuthorizer } from '../../../apdu/healthcard/sam-authorizer.ts';
import type { CardChannel } from '../../../apdu/card-channel.ts';
import { jpegOf } from '../../support/jpeg.ts';

describe('health-card write: partly written units and status words that say the card changed', () => {
  const seed = 43;

  /** The writer over the reader model without batching (one transmit per command, like many PC/SC readers). */
  async function unbatched(request: Parameters<HealthCardWriter['write']>[0], wrap: (c: CardChannel) => CardChannel = (c) => c) {
    const d = await desk();
    insertCards(d.sim, generateProfile(seed));
    const sent: string[] = [];
    const transmit = d.sim.transmit.bind(d.sim);
    d.sim.transmit = (slot, apdu) => { if (slot === USER) sent.push(Buffer.from(apdu.subarray(0, 2)).toString('hex')); return transmit(slot, apdu); };
    const run = () => d.reader.session('write', async (s) => {
      const atr = await s.ensurePowered(USER);
      await s.ensurePowered(SAM1);
      const authorizer = new SamAuthorizer(s.channel(SAM1, { batch: false }), { pin: '123456' });
      return new HealthCardWriter(wrap(s.channel(USER, { batch: false })), { atr, authorizer }).write(request);
    });
    return { ...d, sent, run };
  }

  it('a photo whose first chunks were acknowledged before the card left is uncertain (partly-written)', async () => {
    const photo = jpegOf(Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff));
    const twin = await unbatched({ photo });
    await twin.run();
    // The length prefix set to FF FF, 8 chunks of body (offset 2 up to 1002), the length last.
    const chunks = twin.sent.flatMap((h, i) => (h === '00d6' ? [i + 1] : []));
    expect(chunks.length).toBe(10);

    const { run, removeAt } = await unbatched({ photo });
    await removeAt('after', chunks[2]); // the 2nd body chunk is acknowledged, the 3rd never leaves
    const e = await run().catch((x) => x);
    expect(e).toMatchObject({ code: 'PARTIAL_WRITE', details: { written: [], notWritten: [], causeCode: 'CARD_CHANGED' } });
    expect(e.details.uncertain).toEqual([{ kind: 'photo', file: 'DDF1/EF07', items: [], reason: 'partly-written' }]);
  });

  it('an UPDATE RECORD refused with 6581 (memory failure: the card changed) is uncertain, one refused with 6982 is not written', async () => {
    const answering = (sw: number) => (c: CardChannel): CardChannel => ({
      transmit: async (apdu, o) => {
        const r = await c.transmit(apdu, o);
        return apdu[0] === 0x04 && apdu[1] === 0xdc && apdu[2] === 0x02 ? Uint8Array.of(sw >> 8, sw & 0xff) : r;
      },
    });
    // Items 16 (record 2 of DDF1/EF08) and 22: the first UPDATE RECORD of record 2 gets the status word.
    const changed = await unbatched({ items: { 16: VALUES[16], 22: VALUES[22] } }, answering(0x6581));
    const e1 = await changed.run().catch((x) => x);
    expect(e1).toMatchObject({ code: 'PARTIAL_WRITE', details: { causeCode: 'CARD_WRITE_FAILED', uncertainItems: [16], notWrittenItems: [22] } });
    expect(e1.details.uncertain[0].reason).toBe('card-memory-changed');

    const refused = await unbatched({ items: { 16: VALUES[16], 22: VALUES[22] } }, answering(0x6982));
    const e2 = await refused.run().catch((x) => x);
    // Nothing can have changed: the card's own refusal, not PARTIAL_WRITE.
    expect(e2).toMatchObject({ code: 'CARD_WRITE_FAILED', details: { sw: '6982' } });
  });
});
