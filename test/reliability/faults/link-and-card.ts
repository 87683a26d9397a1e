// Line noise at increasing bit-error rates, mute and slow cards, and reader unplug/replug during a
// read. Every read ends in the exact card data or a typed error; after each fault is cleared the
// daemon recovers by itself (reader back to health ok and a clean read) without a restart.
import { startDaemon, type Harness } from '../kit/daemon-harness.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';
import { rng } from '../kit/rng.ts';
import { classifyRead, freshCard } from './card-harness.ts';

// DDF1 with SAM authorization and the photo: many frames, every kind of APDU.
const READ = '/v1/readers/sim-1/healthcard?files=DDF1/EF05,DDF1/EF06,DDF1/EF07,DDF1/EF08';

async function recovered(h: Harness, baseline: unknown, t: Tally, what: string): Promise<void> {
  try {
    await h.until('reader ok', () => h.app.registry.find('sim-1')?.toJSON().health === 'ok', 20_000);
    await h.until('card known', () => ['present', 'powered'].includes(h.app.registry.find('sim-1')?.toJSON().slots[0].card ?? ''), 10_000);
    const r = await h.inject('GET', READ);
    if (r.status === 200 && JSON.stringify(r.body.files) === JSON.stringify(baseline)) t.count('recovered by itself');
    else t.crash(`${what}: no recovery, the clean read answered ${r.status} ${r.body?.error?.code ?? ''}`);
  } catch (e) {
    t.crash(`${what}: no recovery (${(e as Error).message})`);
  }
}

export async function lineNoise(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Faults', 'line noise (bit flips on the host link, secure channel on)', o.seed);
  const h = await startDaemon({ seed: o.seed });
  try {
    const baseline = (await h.inject('GET', READ)).body.files;
    // A lost frame costs a retransmission (PROTOCOL.md §Loss and retransmission), not a 30–60 s
    // operation timeout, so the short form inside npm test runs a few reads at real noise levels too.
    const rates = o.scale < 0.1 ? [1e-4, 1e-3] : [1e-6, 1e-5, 1e-4, 1e-3, 1e-2];
    const metric = (name: string) => h.app.metrics.get(name, { reader: 'sim-1' });
    for (const rate of rates) {
      let slowest = 0;
      const before = { ...t.result.outcomes };
      const retransmitsBefore = metric('yika_protocol_retransmits_total');
      const failuresBefore = metric('yika_protocol_retransmit_failures_total');
      await h.sim.injectFault({ fault: 'corrupt-bytes', rate, direction: 'both' });
      const deadline = Date.now() + scaled(o, 15_000, 3000);
      for (let i = 0, n = scaled(o, 40, 4); i < n && Date.now() < deadline; i++) {
        const began = performance.now();
        const r = await h.inject('GET', READ);
        slowest = Math.max(slowest, performance.now() - began);
        classifyRead(t, r, baseline, `read at bit-error rate ${rate}`);
      }
      await h.sim.injectFault({ fault: 'corrupt-bytes', rate: 0 });
      const cleared = performance.now();
      await recovered(h, baseline, t, `after noise at ${rate}`);
      const recoveryMs = performance.now() - cleared;
      const got = Object.entries(t.result.outcomes).map(([k, v]) => [k, v - (before[k] ?? 0)] as const).filter(([, v]) => v > 0);
      const retransmits = metric('yika_protocol_retransmits_total') - retransmitsBefore;
      const gaveUp = metric('yika_protocol_retransmit_failures_total') - failuresBefore;
      t.note(
        `rate ${rate}/byte: ${got.map(([k, v]) => `${v} ${k}`).join(', ')}; ${retransmits} retransmissions, ${gaveUp} requests given up; slowest read ${(slowest / 1000).toFixed(1)} s; recovery after clearing ${(recoveryMs / 1000).toFixed(1)} s`,
      );
    }
  } finally {
    await h.close();
  }
  return t.done();
}

export async function muteAndSlowCards(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Faults', 'mute and slow cards', o.seed);
  const r = rng(o.seed);
  const h = await startDaemon({ seed: o.seed });
  try {
    await freshCard(h, o.seed);
    const baseline = (await h.inject('GET', READ)).body.files;
    for (let i = 0, n = scaled(o, 60, 6); i < n; i++) {
      await freshCard(h, o.seed);
      if (i % 2 === 0) {
        const apdu = 1 + r.int(30);
        await h.sim.injectFault({ fault: 'mute-card', slot: 1, apdu });
        const res = await h.inject('GET', READ);
        classifyRead(t, res, baseline, `mute at APDU ${apdu}`);
      } else {
        const extraMs = r.pick([1, 5, 20, 100, 400]);
        await h.sim.injectFault({ fault: 'slow-card', slot: 1, extraMs });
        const res = await h.inject('GET', READ);
        classifyRead(t, res, baseline, `slow card +${extraMs} ms`);
      }
    }
    await freshCard(h, o.seed);
    await recovered(h, baseline, t, 'after mute/slow cards');
  } finally {
    await h.close();
  }
  return t.done();
}

export async function unplugDuringRead(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Faults', 'reader unplug/replug during a read', o.seed);
  const r = rng(o.seed);
  const h = await startDaemon({ seed: o.seed });
  try {
    const baseline = (await h.inject('GET', READ)).body.files;
    for (let i = 0, n = scaled(o, 30, 3); i < n; i++) {
      const read = h.inject('GET', READ);
      await new Promise((resolve) => setTimeout(resolve, r.int(15)));
      const forMs = 20 + r.int(300);
      const unplugged = Date.now();
      await h.sim.injectFault({ fault: 'unplug', forMs });
      classifyRead(t, await read, baseline, `unplug during read ${i}`);
      // Recovery is judged once the reader is back in its socket (the replug happens after forMs).
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, unplugged + forMs + 100 - Date.now())));
      await recovered(h, baseline, t, `after unplug ${i}`);
    }
    if (h.app.registry.list().map((x) => x.id).join() !== 'sim-1') t.wrong(`reader ids after replugs: ${h.app.registry.list().map((x) => x.id).join()}`);
  } finally {
    await h.close();
  }
  return t.done();
}
