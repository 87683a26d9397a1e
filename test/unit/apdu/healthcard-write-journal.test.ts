// Crash safety of the writer's multi-command units, against the simulated card (SimCard.process) through
// a channel that loses the card before, during or after any APDU (the fault injector's three cases):
// - a visit rewrite clears the slot's DF03 index flag (84 0C), writes the data (00 D6 …), and sets the
//   flag valid (84 D2) last, so an interrupted rewrite leaves the slot old-and-valid, invalid, or
//   new-and-valid, never mixed data marked valid;
// - the photo's 2-byte length prefix plays the same part: set to FF FF (no photo) first, the body next,
//   the real length last, so an interrupted photo reads as the old photo, no photo, or the new photo;
// - an erase is one 84 0C: the slot reads old or invalid.
// After every run the same card is read back and checked against the PARTIAL_WRITE report: written
// reads new, notWritten reads old, uncertain reads one of the states above.
import { describe, expect, it } from 'vitest';
import type { CardChannel } from '../../../apdu/card-channel.ts';
import { runBatchSequentially } from '../../../apdu/batch.ts';
import { YikaError } from '../../../common/yika-error.ts';
import type { SimCard } from '../../../firmware-sim/sim-card.ts';
import { createHealthCard, createSam } from '../../../firmware-sim/cards/index.ts';
import { generateProfile, type HealthCardProfile } from '../../../firmware-sim/personalisation/index.ts';
import { HealthCardReader, type HealthCardRead } from '../../../apdu/healthcard/health-card-reader.ts';
import { HealthCardWriter, type HealthCardWrite, type PartialWriteDetails, type WriteUnit } from '../../../apdu/healthcard/health-card-writer.ts';
import { SamAuthorizer } from '../../../apdu/healthcard/sam-authorizer.ts';
import type { FileId } from '../../../apdu/healthcard/file-map.ts';
import type { ItemValues } from '../../../apdu/healthcard/data-items.ts';
import { jpegOf } from '../../support/jpeg.ts';

type When = 'before' | 'during' | 'after';
const WHEN: When[] = ['before', 'during', 'after'];

/**
 * One transmit = one SimCard.process. At APDU `at` the card leaves: 'before' (not executed, no answer),
 * 'during' (executed, answer lost) or 'after' (answered); every later transmit is refused before it is
 * sent (CARD_CHANGED, a code of NOT_SENT_CODES), as the daemon's reader channel does.
 */
function channel(card: SimCard, log: string[], removal?: { when: When; at: number }, batch = false): CardChannel {
  let count = 0;
  let gone = false;
  const ch: CardChannel = {
    transmit: async (c) => {
      if (gone) throw new YikaError('CARD_CHANGED', 'the card was removed');
      count++;
      if (removal && count === removal.at) {
        gone = true;
        if (removal.when === 'before') throw new YikaError('CARD_REMOVED', 'the card left before the command');
        const r = card.process(c, 1).response;
        log.push(Buffer.from(c).toString('hex').toUpperCase());
        if (removal.when === 'during') throw new YikaError('CARD_REMOVED', 'the card left during the command');
        return r;
      }
      log.push(Buffer.from(c).toString('hex').toUpperCase());
      return card.process(c, 1).response;
    },
  };
  if (batch) ch.transmitBatch = (cmds) => runBatchSequentially({ transmit: ch.transmit }, cmds);
  return ch;
}

/** A card whose inpatient slot 1 and outpatient slots 1–2 hold valid visits, with a photo. */
function profileWithVisits(seed: number): HealthCardProfile {
  const p = generateProfile(seed);
  const donor = (pick: (q: HealthCardProfile) => ItemValues | null | undefined): ItemValues => {
    for (let s = seed + 1; ; s++) { const v = pick(generateProfile(s)); if (v) return v; }
  };
  const inpatient = [...(p.inpatient ?? [null, null, null])];
  inpatient[0] ??= donor((q) => q.inpatient?.[0]);
  const outpatient = [...(p.outpatient ?? [null, null, null, null, null])];
  outpatient[1] ??= donor((q) => q.outpatient?.[1]);
  return { ...p, inpatient, outpatient };
}

function newVisit(group: 'in' | 'out', seed: number): ItemValues {
  for (let s = seed + 1000; ; s++) {
    const v = group === 'in' ? generateProfile(s).inpatient?.[0] : generateProfile(s).outpatient?.[0];
    if (v) return v;
  }
}

async function writeWithRemoval(profile: HealthCardProfile, request: HealthCardWrite, removal: { when: When; at: number } | undefined, batch: boolean) {
  const card = createHealthCard(profile);
  const sam = createSam({ province: profile.items[0x39]!.slice(0, 2) });
  sam.powerOn();
  const samChannel: CardChannel = { transmit: async (c) => sam.process(c, 0).response };
  const log: string[] = [];
  const atr = card.powerOn();
  const writer = new HealthCardWriter(channel(card, log, removal, batch), { atr, authorizer: new SamAuthorizer(samChannel, { pin: '123456' }) });
  const outcome = await writer.write(request).then(() => undefined, (e) => e);
  // The same card back in: power-on resets its security state.
  const atr2 = card.powerOn();
  const read = await new HealthCardReader(channel(card, []), { atr: atr2, authorizer: new SamAuthorizer(samChannel, { pin: '123456' }) }).readFiles(READ_BACK);
  return { outcome, read, log };
}

/** The files the checks look at (the visit slots written or erased, the photo). */
const READ_BACK: FileId[] = ['DDF1/EF07', 'DF03/EE01', 'DF03/ED01', 'DF03/ED02'];

type SlotState = 'old' | 'new' | 'invalid' | 'mixed';

function visitState(read: HealthCardRead, file: FileId, before: HealthCardRead, values: ItemValues): SlotState {
  const now = read.files[file]!;
  if (now.kind !== 'visit') throw new Error('not a visit');
  const old = before.files[file]!;
  if (JSON.stringify(now) === JSON.stringify(old)) return 'old';
  if (!now.valid) return 'invalid';
  const want = now.items.every((i) => (values[i.itemNo] ?? null) === i.value) && now.signature === null && now.certificate === null;
  return want ? 'new' : 'mixed';
}

function photoState(read: HealthCardRead, before: HealthCardRead, photo: Uint8Array): 'old' | 'new' | 'none' | 'mixed' {
  const now = read.files['DDF1/EF07']!;
  const old = before.files['DDF1/EF07']!;
  if (now.kind !== 'photo' || old.kind !== 'photo') throw new Error('not a photo');
  if (now.base64 === old.base64) return 'old';
  if (now.base64 === null) return 'none';
  return now.base64 === Buffer.from(photo).toString('base64') ? 'new' : 'mixed';
}

/** Where the report put `unit` (matched by kind and slot): written, uncertain, notWritten, or 'ok' for a success. */
function reported(outcome: unknown, unit: Partial<WriteUnit>): 'ok' | 'written' | 'uncertain' | 'notWritten' | 'error' {
  if (outcome === undefined) return 'ok';
  const e = outcome as { code?: string; details?: PartialWriteDetails };
  if (e.code !== 'PARTIAL_WRITE') return 'error';
  const match = (u: WriteUnit) => u.kind === unit.kind && u.slot === unit.slot;
  if (e.details!.written.some(match)) return 'written';
  if (e.details!.uncertain.some(match)) return 'uncertain';
  if (e.details!.notWritten.some(match)) return 'notWritten';
  throw new Error(`unit ${unit.kind} ${unit.slot} missing from the report`);
}

/** The states a unit may read back in, by where the report put it (error: nothing can have changed). */
const ALLOWED: Record<ReturnType<typeof reported>, string[]> = {
  ok: ['new'], written: ['new'], uncertain: ['old', 'new', 'invalid', 'none'], notWritten: ['old'], error: ['old'],
};

const SEED = 23;
const profile = profileWithVisits(SEED);
const ED_NEW = newVisit('out', SEED);
const EE_NEW = newVisit('in', SEED);
const PHOTO = jpegOf(Uint8Array.from({ length: 1500 }, (_, i) => (i * 13 + 7) & 0xff));

describe('visit writes are journaled by the DF03 index flag', () => {
  it('clears the flag, writes the data, sets the flag valid last (APDU order)', async () => {
    const { outcome, log } = await writeWithRemoval(profile, { outpatient: [{ slot: 2, values: ED_NEW }] }, undefined, false);
    expect(outcome).toBeUndefined();
    // From the first command that touches DF03's files on: the index file, then the visit file, then the index file.
    const from = log.findIndex((c) => c === '00A4000002EF06');
    const shape = log.slice(from).map((c) => (c.startsWith('00D6') ? 'D6' : c));
    expect(shape).toEqual([
      '00A4000002EF06', '840C020400',
      '00A4000002ED02', ...Array(Math.ceil(3267 / 0x80)).fill('D6'),
      '00A4000002EF06', '84D202040100',
    ]);
  });

  it('an erase is a single 84 0C on the index file', async () => {
    const { outcome, log, read } = await writeWithRemoval(profile, { eraseInpatient: [1] }, undefined, false);
    expect(outcome).toBeUndefined();
    expect(log.slice(-2)).toEqual(['00A4000002EF05', '840C010400']);
    expect(read.files['DF03/EE01']).toMatchObject({ valid: false });
  });

  for (const batch of [false, true]) {
    it(`a card lost at any APDU of a visit rewrite never leaves mixed data marked valid (${batch ? 'batched' : 'one transmit per command'})`, async () => {
      const request: HealthCardWrite = { inpatient: [{ slot: 1, values: EE_NEW }], outpatient: [{ slot: 2, values: ED_NEW }] };
      const before = (await writeWithRemoval(profile, {}, undefined, batch)).read;
      const n = (await writeWithRemoval(profile, request, undefined, batch)).log.length;
      const seen = new Set<string>();
      for (let at = 1; at <= n + 1; at++) {
        for (const when of WHEN) {
          const { outcome, read } = await writeWithRemoval(profile, request, { when, at }, batch);
          const what = `removal ${when} APDU ${at}/${n}`;
          for (const [kind, file, values, slot] of [['inpatient', 'DF03/EE01', EE_NEW, 1], ['outpatient', 'DF03/ED02', ED_NEW, 2]] as const) {
            const state = visitState(read, file, before, values);
            const where = reported(outcome, { kind, slot });
            seen.add(`${where}:${state}`);
            expect(state, `${what}: ${file} (reported ${where})`).not.toBe('mixed');
            expect(ALLOWED[where], `${what}: ${file} reported ${where} reads ${state}`).toContain(state);
          }
        }
      }
      // The interesting cases happened: a slot left invalid (reported uncertain), and each extreme.
      expect(seen).toContain('uncertain:invalid');
      expect(seen).toContain('notWritten:old');
      expect(seen).toContain('written:new');
    });
  }

  it('a card lost at any APDU of an erase leaves the slot old or invalid, as reported', async () => {
    const request: HealthCardWrite = { eraseOutpatient: [1, 2] };
    const before = (await writeWithRemoval(profile, {}, undefined, false)).read;
    const n = (await writeWithRemoval(profile, request, undefined, false)).log.length;
    for (let at = 1; at <= n + 1; at++) {
      for (const when of WHEN) {
        const { outcome, read } = await writeWithRemoval(profile, request, { when, at }, false);
        for (const slot of [1, 2]) {
          const file = `DF03/ED0${slot}` as FileId;
          const now = read.files[file]!;
          const state = JSON.stringify(now) === JSON.stringify(before.files[file]) ? 'old' : now.kind === 'visit' && !now.valid ? 'invalid' : 'mixed';
          const where = reported(outcome, { kind: 'eraseOutpatient', slot });
          const allowed = where === 'written' || where === 'ok' ? ['invalid'] : where === 'uncertain' ? ['old', 'invalid'] : ['old'];
          expect(allowed, `removal ${when} APDU ${at}: ${file} reported ${where} reads ${state}`).toContain(state);
        }
      }
    }
  });
});

describe('photo writes are journaled by the length prefix', () => {
  it('sets the length to FF FF first, writes the body, writes the length last', async () => {
    const { outcome, log } = await writeWithRemoval(profile, { photo: PHOTO }, undefined, false);
    expect(outcome).toBeUndefined();
    const writes = log.filter((c) => c.startsWith('00D6'));
    expect(writes[0]).toBe('00D6000002FFFF');
    expect(writes.at(-1)).toBe(`00D6000002${PHOTO.length.toString(16).padStart(4, '0').toUpperCase()}`);
    // The body: from offset 2, chunks that end on 0x80 boundaries.
    expect(writes[1].slice(4, 8)).toBe('0002');
    expect(writes.slice(1, -1)).toHaveLength(Math.ceil((PHOTO.length + 2) / 0x80));
  });

  for (const batch of [false, true]) {
    it(`a card lost at any APDU of a photo write reads back as the old photo, no photo, or the new photo (${batch ? 'batched' : 'one transmit per command'})`, async () => {
      const request: HealthCardWrite = { photo: PHOTO };
      const before = (await writeWithRemoval(profile, {}, undefined, batch)).read;
      expect(before.files['DDF1/EF07']).toMatchObject({ kind: 'photo', base64: expect.any(String) });
      const n = (await writeWithRemoval(profile, request, undefined, batch)).log.length;
      const seen = new Set<string>();
      for (let at = 1; at <= n + 1; at++) {
        for (const when of WHEN) {
          const { outcome, read } = await writeWithRemoval(profile, request, { when, at }, batch);
          const state = photoState(read, before, PHOTO);
          const where = reported(outcome, { kind: 'photo' });
          seen.add(`${where}:${state}`);
          expect(ALLOWED[where], `removal ${when} APDU ${at}/${n}: photo reported ${where} reads ${state}`).toContain(state);
        }
      }
      expect(seen).toContain('uncertain:none');
    });
  }
});
