// Shared steps of the card fault blocks: a fresh card with a given seed, a read through the API, the
// number of APDUs a read or write sends to the user card (from the reader's trace), and the outcome
// of one faulted run classified as correct / typed error / wrong / crash.
import type { SimCard } from '../../../firmware-sim/sim-card.ts';
import { typedError, type Harness } from '../kit/daemon-harness.ts';
import type { Tally } from '../kit/outcome.ts';

export const FULL_READ = '/v1/readers/sim-1/healthcard?files=all';

export async function freshCard(h: Harness, seed: number): Promise<SimCard> {
  await h.sim.injectFault({ fault: 'clear' });
  const card = h.sim.insertCard(1, { kind: 'health', seed });
  await h.until('card present', () => h.app.registry.get('sim-1').toJSON().slots[0].card === 'present');
  return card;
}

/** Puts the same card object (with whatever was written to it) back. */
export async function reinsert(h: Harness, card: SimCard): Promise<void> {
  // A removal "after" the operation's last APDU fires one event-loop turn after that answer
  // (SimulatedReader: the card-detect interrupt follows the response), possibly after the API answered:
  // let it happen now, or it would take out the card put back here (the same object).
  await new Promise((r) => setImmediate(r));
  await h.sim.injectFault({ fault: 'clear' });
  h.sim.removeCard(1);
  await h.until('card absent', () => h.app.registry.get('sim-1').toJSON().slots[0].card === 'absent');
  h.sim.insertCard(1, card);
  await h.until('card present', () => h.app.registry.get('sim-1').toJSON().slots[0].card === 'present');
}

/** APDUs the operation sends to the user card (slot 1), counted by the daemon's trace. */
export async function cardApdus(h: Harness, op: () => Promise<{ status: number }>): Promise<number> {
  await h.inject('PUT', '/v1/readers/sim-1/trace', { enabled: true, clear: true, maskData: true });
  const r = await op();
  if (r.status !== 200) throw new Error(`baseline operation failed with ${r.status}`);
  const entries = (await h.inject('GET', '/v1/readers/sim-1/trace')).body.entries as Array<{ dir: string; slot: number }>;
  await h.inject('PUT', '/v1/readers/sim-1/trace', { enabled: false, clear: true });
  return entries.filter((e) => e.dir === 'command' && e.slot === 1).length;
}

/** A read under a fault: the exact baseline, or a typed error without partial data. */
export function classifyRead(t: Tally, r: { status: number; body: any }, baseline: unknown, what: string): 'correct' | 'error' | 'bad' {
  if (r.status === 200) {
    if (JSON.stringify(r.body.files) === JSON.stringify(baseline)) {
      t.count('correct result');
      return 'correct';
    }
    t.wrong(`${what}: 200 with data that differs from the card`);
    return 'bad';
  }
  const code = typedError(r.body);
  if (!code || r.status === 500) {
    t.crash(`${what}: ${r.status} ${code ?? 'untyped'}`);
    return 'bad';
  }
  if (r.body.files !== undefined) {
    t.wrong(`${what}: ${code} with partial data`);
    return 'bad';
  }
  t.count(`typed error ${code}`);
  return 'error';
}

