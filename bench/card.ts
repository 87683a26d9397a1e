// Full Resident Health Card read through the daemon's health-card service over the in-process
// simulator at speed factor 1 (real card and link timing), against the simulator's modelled physical
// time of the same exchanges: with batching (the protocol's transmitBatch) and without, and the link
// round trips per read. Also the daemon's own cost per read at speed 0 (no modelled delays).
import { createApp, type YikaApp } from '../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../daemon/config/load-config.ts';
import { createLogger } from '../daemon/logging/logger.ts';
import { createSimulator, type Simulator } from '../firmware-sim/index.ts';
import { median, type BenchSection } from './bench-kit.ts';

interface ReadFigures {
  ms: number;
  modelledMs: number;
  roundTrips: number;
  apdus: number;
}

async function setup(speed: number): Promise<{ app: YikaApp; sim: Simulator }> {
  const sim = createSimulator({ seed: 1, speed });
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0', '--secure', 'off']), {});
  config.qr.demo = false;
  const app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  for (let i = 0; i < 200 && app.registry.find('sim-1')?.toJSON().slots[0].card !== 'present'; i++) await new Promise((r) => setTimeout(r, 10));
  return { app, sim };
}

const BASICS = ['DDF1/EF05', 'DDF1/EF06', 'DDF1/EF08'];

async function measure(app: YikaApp, sim: Simulator, batch: boolean, runs: number, files?: string[]): Promise<ReadFigures> {
  // Warm-up: powers card and SAM and verifies the SAM PIN (once per SAM power-on, like a desk all day).
  await app.healthCards.read('sim-1', { batch, files: BASICS });
  const ms: number[] = [];
  const modelled: number[] = [];
  const trips: number[] = [];
  const apdus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = sim.modelledTimeUs();
    const start = performance.now();
    const r = await app.healthCards.read('sim-1', { batch, files });
    ms.push(performance.now() - start);
    modelled.push((sim.modelledTimeUs() - t0) / 1000);
    trips.push(r.roundTrips);
    apdus.push(r.apdus);
  }
  return { ms: median(ms), modelledMs: median(modelled), roundTrips: median(trips), apdus: median(apdus) };
}

/** The in-process read, then the PC/SC figures (bench/pcsc.ts: pcscd + vpcd in a quickack namespace). */
export async function run(): Promise<BenchSection[]> {
  const inProcess = await runInProcess();
  const { run: runPcsc } = await import('./pcsc.ts');
  return [inProcess, await runPcsc()];
}

async function runInProcess(): Promise<BenchSection> {
  const real = await setup(1);
  let batched: ReadFigures;
  let single: ReadFigures;
  let basics: ReadFigures;
  let basicsSingle: ReadFigures;
  try {
    // A full read is long at the card's default speed (no TA1 in the simulated ATR): one run each.
    batched = await measure(real.app, real.sim, true, 1);
    single = await measure(real.app, real.sim, false, 1);
    basics = await measure(real.app, real.sim, true, 5, BASICS);
    basicsSingle = await measure(real.app, real.sim, false, 3, BASICS);
  } finally {
    await real.app.close();
    await real.sim.close();
  }
  const fast = await setup(0);
  let overhead: ReadFigures;
  try {
    overhead = await measure(fast.app, fast.sim, true, 9);
  } finally {
    await fast.app.close();
    await fast.sim.close();
  }
  return {
    title: 'Health card: full read through the daemon (in-process simulated reader)',
    command: 'npm run bench -- card',
    rows: [
      { name: 'cardholder basics (DDF1 EF05, EF06, EF08), batched, speed 1', value: basics.ms, unit: 'ms', anchor: { name: 'modelled physical time of the same read', value: basics.modelledMs } },
      { name: 'cardholder basics, one APDU per round trip, speed 1', value: basicsSingle.ms, unit: 'ms', anchor: { name: 'modelled physical time of the same read', value: basicsSingle.modelledMs } },
      { name: 'link round trips per basics read, batched', value: basics.roundTrips, unit: 'round trips', anchor: { name: 'APDUs (card + SAM)', value: basics.apdus } },
      { name: 'full read (all 22 files), batched, speed 1', value: batched.ms, unit: 'ms', anchor: { name: 'modelled physical time of the same read', value: batched.modelledMs } },
      { name: 'full read, one APDU per round trip, speed 1', value: single.ms, unit: 'ms', anchor: { name: 'modelled physical time of the same read', value: single.modelledMs } },
      { name: 'link round trips per full read, batched', value: batched.roundTrips, unit: 'round trips', anchor: { name: 'APDUs (card + SAM)', value: batched.apdus } },
      { name: 'link round trips per full read, unbatched', value: single.roundTrips, unit: 'round trips', anchor: { name: 'APDUs (card + SAM)', value: single.apdus } },
      { name: 'full read, batched, speed 0 (daemon + protocol cost only)', value: overhead.ms, unit: 'ms', anchor: { name: 'batched read at speed 1', value: batched.ms } },
    ],
    notes: [
      'Every file of a synthetic card (DDF1 EF05–EF08 with the photo, DF01, DF02, DF03 index and visit files), with SAM authorization of each DF (RK keys).',
      'Speed 1: the simulator waits the modelled time of each exchange (card I/O at the ATR clock and etu, card processing per command kind, host link at 115200 baud); the modelled figure is the sum for the same read.',
      'Secure channel off here so that the modelled link time is comparable; `yikad --sim` runs it on.',
      'The simulated ATR offers no faster Fi/Di (no TA1), so card I/O runs at 372/1: the eight visit files (≈ 21 KB) dominate a full read. Batching cuts link round trips ≈ 6×; with the modelled 115200-baud link, card I/O, not round trips, sets the time.',
      'Full-read rows at speed 1 are single runs (each takes tens of seconds); the other rows are medians.',
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatSection } = await import('./report.ts');
  for (const section of await run()) process.stdout.write(formatSection(section) + '\n');
  process.exit(0);
}
