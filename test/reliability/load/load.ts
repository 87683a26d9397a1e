// Load: many concurrent clients on several simulated readers for a bounded time. The daemon attaches
// one in-process simulated reader (device key "sim"), so "several readers" are several daemons in
// this process, each with its own reader and cardholder. Every read must return its own card's exact
// data (no interleaving); on one reader the card is removed and inserted while the load runs and every
// card.removed/card.inserted event must arrive (none lost); heap after GC must stay bounded.
// The soak mode (--minutes N) runs the same load for N minutes, sampling RSS, heap and event-loop delay.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DeliveredEvent } from '../../../daemon/events/event-types.ts';
import { startDaemon, type Harness } from '../kit/daemon-harness.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';
import { rng } from '../kit/rng.ts';
import { classifyRead } from '../faults/card-harness.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;

const PATHS = ['/v1/readers/sim-1/healthcard?files=DDF1/EF05,DDF1/EF06,DDF1/EF08', '/v1/readers/sim-1/healthcard?files=DDF1/EF05', '/v1/readers/sim-1/healthcard'];

export interface SoakSample {
  atS: number;
  rssMiB: number;
  heapMiB: number;
  eldP50Ms: number;
  eldP99Ms: number;
  eldMaxMs: number;
  reads: number;
}

export interface LoadOptions extends BlockOptions {
  /** Soak: run for this many minutes and sample every 10 s. */
  minutes?: number;
  samples?: SoakSample[];
}

export async function concurrentLoad(o: LoadOptions): Promise<BlockResult> {
  const soak = o.minutes !== undefined;
  const t = new Tally('Load', soak ? `soak: ${o.minutes} min of concurrent reads` : 'concurrent clients on several simulated readers', o.seed);
  const r = rng(o.seed);
  const readers = soak ? 4 : scaled(o, 4, 2);
  const clients = soak ? 24 : scaled(o, 32, 6);
  const durationMs = soak ? o.minutes! * 60_000 : scaled(o, 30_000, 3000);
  const daemons: Harness[] = [];
  const eld = monitorEventLoopDelay({ resolution: 10 });
  try {
    for (let i = 0; i < readers; i++) daemons.push(await startDaemon({ seed: o.seed * 10 + i }));
    const baselines = new Map<string, unknown>();
    for (const [i, h] of daemons.entries()) for (const p of PATHS) baselines.set(`${i} ${p}`, (await h.inject('GET', p)).body.files);
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.memoryUsage().rss;
    eld.enable();

    // Events on reader 0: removals and insertions while the load runs; each must arrive.
    const toggler = daemons[0];
    const seen: DeliveredEvent[] = [];
    const sub = toggler.app.events.subscribe((e) => seen.push(e), { types: ['card.removed', 'card.inserted'] });
    let toggles = 0;
    const end = Date.now() + durationMs;
    const toggling = (async () => {
      while (Date.now() < end - 500) {
        await new Promise((resolve) => setTimeout(resolve, 200 + r.int(400)));
        toggler.sim.removeCard(1);
        toggles++;
        try {
          await toggler.until('card.removed', () => seen.filter((e) => e.type === 'card.removed').length >= toggles, 5000);
        } catch {
          t.wrong(`card.removed event ${toggles} lost`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50 + r.int(200)));
        toggler.sim.insertCard(1, { kind: 'health', seed: o.seed * 10 });
        try {
          await toggler.until('card.inserted', () => seen.filter((e) => e.type === 'card.inserted').length >= toggles, 5000);
        } catch {
          t.wrong(`card.inserted event ${toggles} lost`);
        }
      }
    })();

    let reads = 0;
    const samples = o.samples ?? [];
    const started = Date.now();
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      samples.push({ atS: Math.round((Date.now() - started) / 1000), rssMiB: m.rss / MiB, heapMiB: m.heapUsed / MiB, eldP50Ms: eld.percentile(50) / 1e6, eldP99Ms: eld.percentile(99) / 1e6, eldMaxMs: eld.max / 1e6, reads });
      eld.reset();
    }, soak ? 10_000 : 2000);
    const client = async (c: number) => {
      while (Date.now() < end) {
        const i = r.int(daemons.length);
        const path = r.pick(PATHS);
        const res = await daemons[i].inject('GET', path);
        reads++;
        const outcome = classifyRead(t, res, baselines.get(`${i} ${path}`), `client ${c} on reader ${i}`);
        // Reader 0's card comes and goes: only its removal codes are expected failures.
        if (outcome === 'error' && i !== 0) t.note(`reader ${i} (no card changes) failed a read: ${res.body.error.code}`);
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
    await toggling;
    clearInterval(sampler);
    sub.unsubscribe();
    gc();
    const heap1 = process.memoryUsage().heapUsed;
    const rss1 = process.memoryUsage().rss;
    const removed = seen.filter((e) => e.type === 'card.removed').length;
    const inserted = seen.filter((e) => e.type === 'card.inserted').length;
    if (removed !== toggles || inserted !== toggles) t.wrong(`events: ${toggles} removals/insertions made, ${removed} card.removed and ${inserted} card.inserted delivered`);
    else t.count('card events delivered (removed + inserted)', removed + inserted);
    const growth = (heap1 - heap0) / MiB;
    if (growth > 64) t.wrong(`heap after GC grew by ${growth.toFixed(1)} MiB`);
    t.note(`${readers} readers, ${clients} clients, ${(durationMs / 1000).toFixed(0)} s: ${reads} reads (${((reads * 1000) / durationMs).toFixed(0)}/s), ${toggles} card removals/insertions`);
    t.note(`heap after GC ${(heap0 / MiB).toFixed(1)} → ${(heap1 / MiB).toFixed(1)} MiB; RSS ${(rss0 / MiB).toFixed(0)} → ${(rss1 / MiB).toFixed(0)} MiB; event-loop delay p99 ${(eld.percentile(99) / 1e6).toFixed(1)} ms, max ${(eld.max / 1e6).toFixed(1)} ms`);
    const suspicious = t.result.notes.filter((n) => n.startsWith('reader ')).length;
    if (suspicious > 0) t.note(`${suspicious} reads failed on readers without card changes`);
  } finally {
    eld.disable();
    for (const h of daemons) await h.close();
  }
  return t.done();
}
