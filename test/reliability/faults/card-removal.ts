// Card removal before, during and after every APDU of a full read (all 22 files, SAM-authorized) and of
// a write (three items in three files, UK authorization + secure messaging), for several synthetic
// cardholders. A read ends in the exact card data or a typed error without partial data. After a
// failed write the same card goes back in and is read back: every item the answer reported as written
// holds its new value; an item reported uncertain (its UPDATE RECORD was sent, the answer lost: the
// card may or may not have executed it) holds its old or its new value; every other item (reported not
// written, or not reported at all) holds its old value. A written item the answer did not report as
// written or uncertain is a wrong result: a retried append would then be applied twice.
import { startDaemon, type Harness } from '../kit/daemon-harness.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';
import { rng } from '../kit/rng.ts';
import { FULL_READ, cardApdus, classifyRead, freshCard, reinsert } from './card-harness.ts';

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

function newValues(seed: number): Record<number, string> {
  const r = rng(seed);
  return { 16: `139${String(10_000_000 + r.int(89_999_999))}`, 22: `北京市海淀区测试路${1 + r.int(99)}号`, 25: r.pick(['测试甲', '测试乙', '测试丙']) };
}

async function readItems(h: Harness): Promise<Record<number, string | null>> {
  const r = await h.inject('GET', '/v1/readers/sim-1/healthcard/items?ids=16,22,25');
  if (r.status !== 200) throw new Error(`read-back failed: ${r.status} ${r.body?.error?.code}`);
  return Object.fromEntries(r.body.items.map((i: { itemNo: number; value: string | null }) => [i.itemNo, i.value]));
}

export async function removalDuringWrite(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Faults', 'card removal at every APDU of a write (read back after each)', o.seed);
  const seeds = scaled(o, 3, 1);
  for (let s = 0; s < seeds; s++) {
    const seed = o.seed * 100 + 50 + s;
    const h = await startDaemon({ seed });
    try {
      const values = newValues(seed);
      await freshCard(h, seed);
      const before = await readItems(h);
      const n = await cardApdus(h, () => h.inject('PUT', '/v1/readers/sim-1/healthcard/items', { items: values }));
      const stride = sampleStride(n, o.scale);
      for (let k = 1; k <= n + 1; k += stride) {
        for (const when of WHEN) {
          const card = await freshCard(h, seed);
          await h.sim.injectFault({ fault: 'remove-card', slot: 1, when, apdu: k });
          const w = await h.inject('PUT', '/v1/readers/sim-1/healthcard/items', { items: values });
          await reinsert(h, card);
          const now = await readItems(h);
          const what = `write, removal ${when} APDU ${k}/${n} (card seed ${seed})`;
          if (w.status !== 200 && !w.body?.error?.code) {
            t.crash(`${what}: ${w.status} untyped`);
            continue;
          }
          const details = w.body?.error?.code === 'PARTIAL_WRITE' ? w.body.error.details : undefined;
          const reported = new Set<number>(w.status === 200 ? [16, 22, 25] : ((details?.writtenItems as number[] | undefined) ?? []));
          const uncertain = new Set<number>((details?.uncertainItems as number[] | undefined) ?? []);
          if (details && !checkPartialWriteShape(details, [16, 22, 25])) {
            t.wrong(`${what}: PARTIAL_WRITE details do not place each item in exactly one of written / uncertain / notWritten`);
            continue;
          }
          let applied = 0;
          let bad = '';
          for (const item of [16, 22, 25]) {
            const isNew = now[item] === values[item] && now[item] !== before[item];
            if (now[item] !== before[item] && now[item] !== values[item]) bad ||= `item ${item} holds neither its old nor its new value`;
            else if (reported.has(item)) {
              if (now[item] !== values[item]) bad ||= `item ${item} reported written but reads back its old value`;
            } else if (uncertain.has(item)) {
              if (isNew) applied++;
            } else if (isNew) {
              bad ||= `item ${item} was written but the answer (${w.status} ${w.body?.error?.code ?? ''}) reported it ${details ? 'not written' : 'nowhere'}`;
            }
          }
          // "after": every APDU sent was answered (the next one is refused before it leaves) and this write's
          // UPDATE RECORDs go one per transmit, never inside a batch: nothing may be reported uncertain.
          if (!bad && when === 'after' && uncertain.size) bad = `items ${[...uncertain].join(', ')} reported uncertain although every APDU sent was answered`;
          if (bad) t.wrong(`${what}: ${bad}`);
          else if (w.status === 200) t.count('written, reads back');
          else if (uncertain.size) t.count(`${w.body.error.code}, in-flight APDU ${applied ? 'applied' : 'not applied'} and reported uncertain`);
          else t.count(`${w.body.error.code}, read-back matches the report`);
        }
      }
      t.note(`card seed ${seed}: ${n} card APDUs per write of 3 items in 3 files`);
    } finally {
      await h.close();
    }
  }
  return t.done();
}

/** Every requested item is in exactly one of the three lists, and the flat item lists agree with them. */
function checkPartialWriteShape(d: any, items: number[]): boolean {
  const lists = [d.written, d.uncertain, d.notWritten];
  if (!lists.every(Array.isArray)) return false;
  const flat = lists.map((l: Array<{ items: number[] }>) => l.flatMap((u) => u.items));
  const all = flat.flat().sort((a, b) => a - b);
  if (JSON.stringify(all) !== JSON.stringify([...items].sort((a, b) => a - b))) return false;
  const same = (a: unknown, b: number[]): boolean => JSON.stringify([...((a as number[]) ?? [])].sort()) === JSON.stringify([...b].sort());
  return same(d.writtenItems, flat[0]) && same(d.uncertainItems, flat[1]) && same(d.notWrittenItems, flat[2]);
}
