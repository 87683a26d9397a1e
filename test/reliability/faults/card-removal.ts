// Card removal before, during and after every APDU of a full read (all 22 files, SAM-authorized) and of
// writes, for several synthetic cardholders. A read ends in the exact card data or a typed error
// without partial data. The writes: three TLV items in three files (UK authorization + secure
// messaging), a photo, two allergy and two immunisation appends, a visit rewritten in each group, a
// visit erased in each group. After each faulted write the same card goes back in and is read back:
// every unit the answer reported as written holds its new value; a unit reported uncertain (sent, the
// answer lost, or partly acknowledged) holds its old or its new value, or, for a visit, reads as an
// empty slot and, for the photo, as no photo; every other unit (reported not written, or not reported
// at all) holds its old value. Mixed data is always wrong: a visit slot marked valid with neither its
// old nor its new data, a photo that is neither, appends not in append order. A changed unit the
// answer did not report as written or uncertain is wrong too: a retried append would be applied twice.
import { startDaemon, type Harness } from '../kit/daemon-harness.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';
import { rng } from '../kit/rng.ts';
import { generateProfile } from '../../../firmware-sim/personalisation/index.ts';
import { FULL_READ, cardApdus, classifyRead, freshCard, reinsert } from './card-harness.ts';
import { jpegOf } from '../../support/jpeg.ts';

const WHEN = ['before', 'during', 'after'] as const;

/** The full suite takes every APDU index; the short form samples about scale × n of them (at least 6). */
function sampleStride(n: number, scale: number): number {
  return scale >= 0.5 ? 1 : Math.ceil((n + 1) / Math.max(6, Math.round((n + 1) * scale)));
}

export async function removalDuringRead(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Faults', 'card removal at every APDU of a full read', o.seed);
  // One daemon per cardholder: the simulator's SAM serves the province of its seed's card.
  const seeds = scaled(o, 3, 1);
  for (let s = 0; s < seeds; s++) {
    const seed = o.seed * 100 + s;
    const h = await startDaemon({ seed });
    try {
      await freshCard(h, seed);
      let baseline: unknown;
      const n = await cardApdus(h, async () => {
        const r = await h.inject('GET', FULL_READ);
        baseline = r.body.files;
        return r;
      });
      // The short form samples the indices; the full suite takes every one.
      const stride = sampleStride(n, o.scale);
      for (let k = 1; k <= n + 1; k += stride) {
        for (const when of WHEN) {
          await freshCard(h, seed);
          await h.sim.injectFault({ fault: 'remove-card', slot: 1, when, apdu: k });
          const r = await h.inject('GET', FULL_READ);
          const outcome = classifyRead(t, r, baseline, `read, removal ${when} APDU ${k}/${n} (card seed ${seed})`);
          const completes = when === 'after' ? k >= n : k > n;
          if (outcome === 'error' && completes) t.note(`removal ${when} APDU ${k} of ${n} still failed the read`);
        }
      }
      t.note(`card seed ${seed}: ${n} card APDUs per full read`);
      // Recovery: the daemon reads the next card without a restart.
      await freshCard(h, seed);
      const after = await h.inject('GET', FULL_READ);
      if (after.status !== 200) t.crash(`no recovery: the read after the removals answered ${after.status}`);
    } finally {
      await h.close();
    }
  }
  return t.done();
}

// ---- writes ---------------------------------------------------------------------------------------

const WRITE = '/v1/readers/sim-1/healthcard/items';

/** How a unit of the request reads back: its old value, its new one, an empty visit slot, no photo, or anything else (mixed). */
type UnitState = 'old' | 'new' | 'invalid' | 'none' | 'mixed';

/** One unit of a scenario's request, how to find it in PARTIAL_WRITE, and how it reads back. */
interface ScenarioUnit {
  label: string;
  match(u: { kind: string; items: number[]; slot?: number; index?: number }): boolean;
  /** The states the unit is in now (two when its new value equals its old one). */
  states(now: any, before: any): UnitState[];
}

/** A write request, the read that shows its effect, and its units. */
interface WriteScenario {
  name: string;
  body: object;
  read(h: Harness): Promise<any>;
  units: ScenarioUnit[];
  /**
   * Every command of each unit goes alone in one transmit (the TLV items' secure UPDATE RECORDs): a
   * removal "after" an APDU can then never leave a unit uncertain. Units in a batch (appends, the photo,
   * visits) may: the device stops the batch where the card left.
   */
  unbatched?: boolean;
}

async function getJson(h: Harness, url: string): Promise<any> {
  const r = await h.inject('GET', url);
  if (r.status !== 200) throw new Error(`read-back failed: ${r.status} ${r.body?.error?.code}`);
  return r.body;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Three TLV items in three files (secure UPDATE RECORD, one per transmit). */
function itemsScenario(seed: number): WriteScenario {
  const r = rng(seed);
  const values: Record<number, string> = { 16: `139${String(10_000_000 + r.int(89_999_999))}`, 22: `北京市海淀区测试路${1 + r.int(99)}号`, 25: r.pick(['测试甲', '测试乙', '测试丙']) };
  return {
    name: 'items',
    body: { items: values },
    unbatched: true,
    read: async (h) => Object.fromEntries((await getJson(h, `${WRITE}?ids=16,22,25`)).items.map((i: { itemNo: number; value: string | null }) => [i.itemNo, i.value])),
    units: [16, 22, 25].map((item) => ({
      label: `item ${item}`,
      match: (u) => u.kind === 'item' && u.items[0] === item,
      states: (now, before) => [
        ...(now[item] === before[item] ? ['old' as const] : []),
        ...(now[item] === values[item] ? ['new' as const] : []),
      ],
    })),
  };
}

/** A new photo (1–2.4 KB) over the card's: written in 0x80 chunks behind its length prefix. */
function photoScenario(seed: number): WriteScenario {
  const r = rng(seed + 1);
  const photo = Buffer.from(jpegOf(r.bytes(1000 + r.int(1400)))).toString('base64');
  const photoOf = (read: any) => read.files['DDF1/EF07'].base64 as string | null;
  return {
    name: 'photo',
    body: { photo },
    read: (h) => getJson(h, '/v1/readers/sim-1/healthcard?files=DDF1/EF07'),
    units: [{
      label: 'photo',
      match: (u) => u.kind === 'photo',
      states: (now, before) => {
        const p = photoOf(now);
        if (p === photoOf(before)) return ['old'];
        if (p === photo) return ['new'];
        return p === null ? ['none'] : ['mixed'];
      },
    }],
  };
}

/** Two allergies and two immunisations appended (cyclic files, one command per record, in a batch). */
function appendsScenario(seed: number): WriteScenario {
  const r = rng(seed + 2);
  const tag = () => 1 + r.int(899);
  const allergies = [{ 58: `测试过敏原${tag()}`, 59: `测试反应${tag()}` }, { 58: `测试花粉${tag()}`, 59: `测试皮疹${tag()}` }];
  const shots = [{ 60: `测试疫苗${tag()}`, 61: '20250314' }, { 60: `测试针剂${tag()}`, 61: '20240901' }];
  const files = [
    { file: 'DF02/EF07', kind: 'allergy', capacity: 3, added: allergies as Array<Record<number, string>> },
    { file: 'DF02/EF08', kind: 'immunisation', capacity: 10, added: shots as Array<Record<number, string>> },
  ];
  const records = (read: any, file: string) =>
    (read.files[file].records as Array<{ items: Array<{ itemNo: number; value: string | null }> }>).map((rec) => Object.fromEntries(rec.items.map((i) => [i.itemNo, i.value])));
  /** How many of the file's appends are on the card (they go oldest first: the last m of the list), or -1 when the file matches no such state. */
  const applied = (now: any, before: any, f: (typeof files)[number]): number => {
    const n = f.added.length;
    for (let m = 0; m <= n; m++) {
      if (sameJson(records(now, f.file), [...f.added.slice(n - m), ...records(before, f.file)].slice(0, f.capacity))) return m;
    }
    return -1;
  };
  return {
    name: 'appends',
    body: { addAllergies: allergies, addImmunisations: shots },
    read: (h) => getJson(h, '/v1/readers/sim-1/healthcard?files=DF02/EF07,DF02/EF08'),
    units: files.flatMap((f) => f.added.map((_, index): ScenarioUnit => ({
      label: `${f.kind} ${index + 1}`,
      match: (u) => u.kind === f.kind && u.index === index,
      states: (now, before) => {
        const m = applied(now, before, f);
        if (m < 0) return ['mixed'];
        return [index >= f.added.length - m ? 'new' : 'old'];
      },
    }))),
  };
}

/** The first visit of some generated cardholder (a valid, complete visit). */
function donorVisit(group: 'inpatient' | 'outpatient', seed: number): Record<number, string | null> {
  for (let s = seed; ; s++) {
    const v = generateProfile(s)[group]?.[0];
    if (v) return v;
  }
}

function visitFile(kind: 'inpatient' | 'outpatient', slot: number): string {
  return `DF03/${kind === 'inpatient' ? 'EE' : 'ED'}0${slot}`;
}

/** The visit slots a card holds valid (from a read of DF03/EE01–ED05). */
function validSlots(read: any, kind: 'inpatient' | 'outpatient'): number[] {
  const out: number[] = [];
  for (let slot = 1; slot <= (kind === 'inpatient' ? 3 : 5); slot++) if (read.files[visitFile(kind, slot)]?.valid) out.push(slot);
  return out;
}

/**
 * A visit rewritten over a valid one (when the card has one) in both groups: index flag cleared,
 * data in 0x80 chunks, flag set valid last. Never a valid slot with mixed data.
 */
function visitsScenario(seed: number, card: any): WriteScenario {
  const slots = { inpatient: validSlots(card, 'inpatient')[0] ?? 1, outpatient: validSlots(card, 'outpatient')[0] ?? 1 };
  const values = { inpatient: donorVisit('inpatient', seed + 7), outpatient: donorVisit('outpatient', seed + 7) };
  const kinds = ['inpatient', 'outpatient'] as const;
  return {
    name: 'visits',
    body: Object.fromEntries(kinds.map((k) => [k, [{ slot: slots[k], values: values[k] }]])),
    read: (h) => getJson(h, `/v1/readers/sim-1/healthcard?files=${kinds.map((k) => visitFile(k, slots[k])).join(',')}`),
    units: kinds.map((k): ScenarioUnit => ({
      label: `${k} slot ${slots[k]}`,
      match: (u) => u.kind === k && u.slot === slots[k],
      states: (now, before) => {
        const file = visitFile(k, slots[k]);
        const v = now.files[file];
        if (sameJson(v, before.files[file])) return ['old'];
        if (!v.valid) return ['invalid'];
        const isNew = v.signature === null && v.certificate === null && (v.items as Array<{ itemNo: number; value: string | null }>).every((i) => (values[k][i.itemNo] ?? null) === i.value);
        return isNew ? ['new'] : ['mixed'];
      },
    })),
  };
}

/** A valid slot of each group erased (84 0C): the slot reads invalid ("new") or as before. */
function erasesScenario(card: any): WriteScenario {
  const slots = { inpatient: validSlots(card, 'inpatient').at(-1) ?? 1, outpatient: validSlots(card, 'outpatient').at(-1) ?? 1 };
  const kinds = ['inpatient', 'outpatient'] as const;
  const erase = { inpatient: 'eraseInpatient', outpatient: 'eraseOutpatient' } as const;
  return {
    name: 'erases',
    body: Object.fromEntries(kinds.map((k) => [erase[k], [slots[k]]])),
    read: (h) => getJson(h, `/v1/readers/sim-1/healthcard?files=${kinds.map((k) => visitFile(k, slots[k])).join(',')}`),
    units: kinds.map((k): ScenarioUnit => ({
      label: `${erase[k]} slot ${slots[k]}`,
      match: (u) => u.kind === erase[k] && u.slot === slots[k],
      states: (now, before) => {
        const file = visitFile(k, slots[k]);
        const v = now.files[file];
        const old = sameJson(v, before.files[file]);
        return [...(old ? ['old' as const] : []), ...(!v.valid ? ['new' as const] : []), ...(!old && v.valid ? ['mixed' as const] : [])];
      },
    })),
  };
}

/** Card APDU numbers (1-based) of the commands that change the card (UPDATE BINARY/RECORD, index flags), from a trace. */
async function writeApdus(h: Harness, body: object): Promise<{ n: number; changing: number[] }> {
  await h.inject('PUT', '/v1/readers/sim-1/trace', { enabled: true, clear: true, maskData: true });
  const r = await h.inject('PUT', WRITE, body);
  if (r.status !== 200) throw new Error(`baseline write failed with ${r.status} ${r.body?.error?.code}`);
  const entries = (await h.inject('GET', '/v1/readers/sim-1/trace')).body.entries as Array<{ dir: string; slot: number; hex: string }>;
  await h.inject('PUT', '/v1/readers/sim-1/trace', { enabled: false, clear: true });
  const commands = entries.filter((e) => e.dir === 'command' && e.slot === 1).map((e) => e.hex.replace(/\s/g, '').toUpperCase());
  const changing = commands.flatMap((c, i) => (/^(00D6|00DC|04DC|84D2|840C)/.test(c) ? [i + 1] : []));
  return { n: commands.length, changing };
}

/**
 * The APDU indices to remove the card at: all of 1..n+1 in the full suite. The short form keeps the
 * TLV items' original sampling (evenly spread, about scale × n, at least 6); for the other scenarios it
 * takes APDU 1 and the first, middle and last command that changes the card (where a journaled unit
 * is cleared, half written, committed).
 */
function removalPoints(sc: WriteScenario, n: number, changing: number[], scale: number): number[] {
  if (scale >= 0.5) return Array.from({ length: n + 1 }, (_, i) => i + 1);
  if (sc.name === 'items') {
    const points: number[] = [];
    for (let k = 1; k <= n + 1; k += sampleStride(n, scale)) points.push(k);
    return points;
  }
  const points = new Set([1]);
  if (changing.length) for (const k of [changing[0], changing[Math.floor(changing.length / 2)], changing.at(-1)!]) points.add(k);
  return [...points].sort((a, b) => a - b);
}

type Where = 'written' | 'uncertain' | 'notWritten' | 'unreported';

export async function removalDuringWrite(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Faults', 'card removal at every APDU of a write (read back after each)', o.seed);
  const seeds = scaled(o, 3, 1);
  for (let s = 0; s < seeds; s++) {
    const seed = o.seed * 100 + 50 + s;
    const h = await startDaemon({ seed });
    try {
      await freshCard(h, seed);
      const card = await getJson(h, '/v1/readers/sim-1/healthcard?files=DF03/EE01,DF03/EE02,DF03/EE03,DF03/ED01,DF03/ED02,DF03/ED03,DF03/ED04,DF03/ED05');
      const scenarios = [itemsScenario(seed), photoScenario(seed), appendsScenario(seed), visitsScenario(seed, card), erasesScenario(card)];
      for (const sc of scenarios) {
        await freshCard(h, seed);
        const before = await sc.read(h);
        const { n, changing } = await writeApdus(h, sc.body);
        const points = removalPoints(sc, n, changing, o.scale);
        for (const k of points) {
          for (const when of WHEN) {
            const fresh = await freshCard(h, seed);
            await h.sim.injectFault({ fault: 'remove-card', slot: 1, when, apdu: k });
            const w = await h.inject('PUT', WRITE, sc.body);
            await reinsert(h, fresh);
            const now = await sc.read(h);
            judgeWrite(t, sc, w, before, now, `${sc.name} write, removal ${when} APDU ${k}/${n} (card seed ${seed})`, when);
          }
        }
        t.note(`card seed ${seed}: ${sc.name}: ${n} card APDUs (${changing.length} change the card), removal at ${points.length} of them`);
      }
    } finally {
      await h.close();
    }
  }
  return t.done();
}

/**
 * One faulted write against its read-back: a unit reported written reads new; uncertain reads old or
 * new, or, for a visit, an empty slot and, for the photo, no photo; not written (or not reported, when
 * the write failed with its own error) reads old. Mixed data (a visit slot valid with neither its old
 * nor its new data, a photo that is neither, appends out of order) is wrong whatever the report says.
 */
function judgeWrite(t: Tally, sc: WriteScenario, w: { status: number; body: any }, before: any, now: any, what: string, when: (typeof WHEN)[number]): void {
  if (w.status !== 200 && !w.body?.error?.code) {
    t.crash(`${what}: ${w.status} untyped`);
    return;
  }
  const code = w.status === 200 ? undefined : (w.body.error.code as string);
  const details = code === 'PARTIAL_WRITE' ? w.body.error.details : undefined;
  if (details && !checkPartialWriteShape(details, sc.units)) {
    t.wrong(`${what}: PARTIAL_WRITE details do not place each unit in exactly one of written / uncertain / notWritten`);
    return;
  }
  const whereOf = (u: ScenarioUnit): Where => {
    if (w.status === 200) return 'written';
    if (!details) return 'unreported';
    for (const list of ['written', 'uncertain', 'notWritten'] as const) if ((details[list] as any[]).some((x) => u.match(x))) return list;
    return 'unreported';
  };
  let bad = '';
  const uncertainStates = new Set<UnitState>();
  for (const u of sc.units) {
    const where = whereOf(u);
    const states = u.states(now, before);
    if (states.length === 0 || states.includes('mixed')) {
      bad ||= `${u.label} reads back neither its old nor its new value${where === 'uncertain' ? '' : ` (reported ${where})`}: mixed data`;
    } else if (where === 'written' && !states.includes('new')) bad ||= `${u.label} reported written but reads back ${states.join('/')}`;
    else if ((where === 'notWritten' || where === 'unreported') && !states.includes('old')) {
      bad ||= `${u.label} was changed (${states.join('/')}) but the answer (${w.status} ${code ?? ''}) reported it ${where === 'notWritten' ? 'not written' : 'nowhere'}`;
    } else if (where === 'uncertain') for (const st of states) uncertainStates.add(st);
  }
  // "after": every APDU sent was answered (the next one is refused before it leaves); units sent one
  // command per transmit can then not be uncertain.
  const uncertain = (details?.uncertain as Array<{ reason: string }> | undefined) ?? [];
  if (!bad && when === 'after' && sc.unbatched && uncertain.length) bad = `${uncertain.length} unit(s) reported uncertain although every APDU sent was answered`;
  if (bad) t.wrong(`${what}: ${bad}`);
  else if (w.status === 200) t.count(`${sc.name}: written, reads back new`);
  else if (uncertain.length) t.count(`${sc.name}: ${code}, uncertain read back ${[...uncertainStates].sort().join('/')}`);
  else t.count(`${sc.name}: ${code}, read-back matches the report`);
}

/** Every unit of the scenario is in exactly one of the three lists, and the flat item lists agree with them. */
function checkPartialWriteShape(d: any, units: ScenarioUnit[]): boolean {
  const lists = [d.written, d.uncertain, d.notWritten];
  if (!lists.every(Array.isArray)) return false;
  const all = lists.flat() as Array<{ kind: string; items: number[] }>;
  if (all.length !== units.length || !units.every((u) => all.filter((x) => u.match(x)).length === 1)) return false;
  const flat = lists.map((l: Array<{ items: number[] }>) => [...new Set(l.flatMap((u) => u.items))].sort((a, b) => a - b));
  const same = (a: unknown, b: number[]): boolean => sameJson([...((a as number[]) ?? [])].sort((x, y) => x - y), b);
  return same(d.writtenItems, flat[0]) && same(d.uncertainItems, flat[1]) && same(d.notWrittenItems, flat[2]);
}
