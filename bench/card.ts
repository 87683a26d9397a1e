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

const BASICS = ['DDF1/EF05', 'DDF1/EF06'];
const DESK: string[] | undefined = undefined; // the service's default: DDF1 EF05, EF06, EF07
const ALL = ['all'];

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

/** The user-card slot's rate after the daemon's PPS, e.g. "250 kbit/s (Fi 512, Di 32)". */
function rateOf(app: YikaApp): string {
  const rate = app.registry.find('sim-1')?.toJSON().slots.find((x) => x.slot === 1)?.rate;
  if (!rate) return 'rate not reported';
  return `${rate.bitRate ? `${Math.round(rate.bitRate / 1000)} kbit/s ` : ''}(Fi ${rate.fi}, Di ${rate.di})`;
}

/** Wall time of the default GET /v1/readers/sim-1/healthcard over HTTP (what the README's first curl does). */
async function httpDefaultRead(app: YikaApp, runs: number): Promise<{ ms: number; apdus: number }> {
  const url = await app.listen();
  const ms: number[] = [];
  let apdus = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const res = await fetch(`${url}/v1/readers/sim-1/healthcard`);
    const body = (await res.json()) as { apdus: number };
    ms.push(performance.now() - start);
    if (res.status !== 200) throw new Error(`GET healthcard answered ${res.status}`);
    apdus = body.apdus;
  }
  return { ms: median(ms), apdus };
}

export async function runInProcess(): Promise<BenchSection> {
  const real = await setup(1);
  let batched: ReadFigures;
  let single: ReadFigures;
  let basics: ReadFigures;
  let basicsSingle: ReadFigures;
  let desk: ReadFigures;
  let http: { ms: number; apdus: number };
  let rate: string;
  try {
    basics = await measure(real.app, real.sim, true, 9, BASICS);
    rate = rateOf(real.app);
    basicsSingle = await measure(real.app, real.sim, false, 5, BASICS);
    desk = await measure(real.app, real.sim, true, 7, DESK);
    http = await httpDefaultRead(real.app, 7);
    batched = await measure(real.app, real.sim, true, 3, ALL);
    single = await measure(real.app, real.sim, false, 1, ALL);
  } finally {
    await real.app.close();
    await real.sim.close();
  }
  const fast = await setup(0);
  let overhead: ReadFigures;
  try {
    overhead = await measure(fast.app, fast.sim, true, 9, ALL);
  } finally {
    await fast.app.close();
    await fast.sim.close();
  }
  return {
    title: 'Health card: reads through the daemon (in-process simulated reader, card at its TA1 rate after PPS)',
    command: 'npm run bench -- card',
    rows: [
      { name: `cardholder basics (DDF1 EF05 + EF06), batched, speed 1, ${rate}, ${basics.apdus} APDUs`, value: basics.ms, unit: 'ms', anchor: { name: 'modelled physical time of the same read', value: basics.modelledMs } },
      { name: `cardholder basics, one APDU per round trip, speed 1, ${basicsSingle.apdus} APDUs`, value: basicsSingle.ms, unit: 'ms', anchor: { name: 'modelled physical time of the same read', value: basicsSingle.modelledMs } },
      { name: 'link round trips per basics read, batched', value: basics.roundTrips, unit: 'round trips', anchor: { name: 'APDUs (card + SAM)', value: basics.apdus } },
      { name: `desk read (the default: EF05, EF06, EF07 photo), batched, speed 1, ${rate}, ${desk.apdus} APDUs`, value: desk.ms, unit: 'ms', anchor: { name: 'modelled physical time of the same read', value: desk.modelledMs } },
      { name: `GET /v1/readers/sim-1/healthcard over HTTP (default files), speed 1, ${http.apdus} APDUs`, value: http.ms, unit: 'ms', anchor: { name: 'the same read in the service', value: desk.ms } },
      { name: `full read (files=all, 22 files), batched, speed 1, ${rate}, ${batched.apdus} APDUs`, value: batched.ms, unit: 'ms', anchor: { name: 'modelled physical time of the same read', value: batched.modelledMs } },
      { name: `full read, one APDU per round trip, speed 1, ${single.apdus} APDUs`, value: single.ms, unit: 'ms', anchor: { name: 'modelled physical time of the same read', value: single.modelledMs } },
      { name: 'link round trips per full read, batched', value: batched.roundTrips, unit: 'round trips', anchor: { name: 'APDUs (card + SAM)', value: batched.apdus } },
      { name: 'link round trips per full read, unbatched', value: single.roundTrips, unit: 'round trips', anchor: { name: 'APDUs (card + SAM)', value: single.apdus } },
      { name: 'full read, batched, speed 0 (daemon + protocol cost only)', value: overhead.ms, unit: 'ms', anchor: { name: 'batched read at speed 1', value: batched.ms } },
    ],
    notes: [
      'The simulated health card answers reset with TA1 = 96 (Fi 512, Di 32); the daemon asks for PPS to it right after power-on (PROTOCOL.md 6.1), so card I/O runs at 250 kbit/s on the 4 MHz card clock instead of ≈ 10.8 kbit/s. The SAM (no TA1) stays at the default rate: its three commands per authorization are ≈ 40 % of a basics read.',
      'READ BINARY reads 256 bytes per command (short Le 00), not 0x80: half the commands for the photo and the visit files.',
      'Full read: every file of a synthetic card (DDF1 EF05–EF08 with the photo, DF01, DF02, DF03 index and visit files), with SAM authorization of each DF (RK keys).',
      'Speed 1: the simulator waits the modelled time of each exchange (card I/O at the negotiated Fi/Di and clock, card processing per command kind, host link over USB full speed); the modelled figure is the sum for the same read. Before this change (no TA1, 0x80 chunks, all files by default) the default GET took 23.8 s, 228 APDUs.',
      'Secure channel off here so that the modelled link time is comparable; `yikad --sim` runs it on.',
      'Medians of 9 (basics), 5, 7, 7 and 3 runs; the unbatched full read is a single run.',
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatSection } = await import('./report.ts');
  for (const section of await run()) process.stdout.write(formatSection(section) + '\n');
  process.exit(0);
}
