// Footprint of the compiled daemon (what a clinic installs; dist/, no tsx): start-to-ready and idle
// RSS of `yikad --sim` and of `yikad` with PC/SC and a serial reader configured, side by side with a
// bare fastify server's start-to-listening and idle RSS and a bare `node -e`, all spawned interleaved
// in the same run (so machine load hits every variant alike); then, in a child process running the
// compiled code, the RSS after 100,000 QR verifications and after 10,000 full card reads.
// Start is measured as wall time from spawn to the ready line and as the child's CPU time (user +
// system) at that moment: on a shared, loaded machine the CPU time is the steadier of the two.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { median, type BenchRow, type BenchSection } from './bench-kit.ts';
import { socatAvailable, startSocatPair, type SocatPair } from '../test/support/socat.ts';

const COMMAND = 'node --import tsx bench/footprint.ts';
const ROOT = new URL('..', import.meta.url).pathname;
const MiB = 1024 * 1024;
const CLK_TCK = 100; // Linux USER_HZ

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? (Number(m[1]) * 1024) / MiB : NaN;
}

/** CPU time (user + system) of a process so far, ms. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

interface Start {
  ms: number;
  cpuMs: number;
  rssMiB: number;
}

/** Spawns `node args` from /, resolves when a stdout/stderr line matches `ready`: wall ms, CPU ms, idle RSS (after idleMs). */
function startToReady(args: string[], ready: RegExp, idleMs = 1500): Promise<Start> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, YIKA_LOG_LEVEL: 'info', YIKA_LOG_FORMAT: 'json', YIKA_LISTEN: '', YIKA_CONFIG: '' } });
    let buf = '';
    let seen = false;
    let done = false;
    const timer = setTimeout(() => finish(new Error(`no ready line from ${args.join(' ')} within 120 s`)), 120_000);
    const finish = (err?: Error, value?: Start) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGTERM');
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (seen || !ready.test(buf)) return;
      seen = true;
      const ms = performance.now() - t0;
      const cpuMs = cpuMsOf(child.pid!);
      setTimeout(() => {
        try {
          finish(undefined, { ms, cpuMs, rssMiB: rssOf(child.pid!) });
        } catch (e) {
          finish(e as Error);
        }
      }, idleMs);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => finish(new Error(`${args.join(' ')} exited with ${code} before ready: ${buf.slice(-300)}`)));
  });
}

interface Variant {
  label: string;
  args: string[];
  ready: RegExp;
}

/** Every variant once per round, rounds repeated: medians per variant. */
async function interleaved(variants: Variant[], runs: number): Promise<Start[]> {
  const all: Start[][] = variants.map(() => []);
  for (let i = 0; i < runs; i++) for (const [j, v] of variants.entries()) all[j].push(await startToReady(v.args, v.ready));
  return all.map((xs) => ({ ms: median(xs.map((x) => x.ms)), cpuMs: median(xs.map((x) => x.cpuMs)), rssMiB: median(xs.map((x) => x.rssMiB)) }));
}

const BARE_FASTIFY = `import Fastify from ${JSON.stringify(`${ROOT}node_modules/fastify/fastify.js`)}; const app = Fastify(); app.get('/', async () => 'ok'); await app.listen({ host: '127.0.0.1', port: 0 }); console.log('ready'); setInterval(() => {}, 1000);`;

/** The compiled code under load, in its own process (no tsx, no bench code): RSS before and after. */
const LOAD_SCRIPT = (verifications: number, reads: number) => `
const dist = ${JSON.stringify(`${ROOT}dist/`)};
const { createApp } = await import(dist + 'daemon/app.js');
const { loadConfig, parseDaemonFlags } = await import(dist + 'daemon/config/load-config.js');
const { createLogger } = await import(dist + 'daemon/logging/logger.js');
const { issueDemoCode } = await import(dist + 'qr/demo-trust.js');
const MiB = 1024 * 1024;
const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), {});
const app = await createApp({ config, logger: createLogger({ level: 'silent' }) });
await app.startDevices();
for (let i = 0; i < 2000 && app.registry.find('sim-1')?.toJSON().slots[0].card !== 'present'; i++) await new Promise((r) => setTimeout(r, 25));
await app.qr.ready();
const rssStart = process.memoryUsage().rss / MiB;
const codes = Array.from({ length: Math.min(2000, ${verifications}) }, (_, i) => issueDemoCode({ card: 100 + i, type: 'static', ttl: 86400 }).text);
for (let i = 0; i < ${verifications}; i++) await app.qr.verify(codes[i % codes.length]);
const rssQr = process.memoryUsage().rss / MiB;
const t0 = performance.now();
for (let i = 0; i < ${reads}; i++) await app.healthCards.read('sim-1', { files: ['all'] });
const readMs = (performance.now() - t0) / ${reads};
const rssReads = process.memoryUsage().rss / MiB;
await app.close();
process.stdout.write(JSON.stringify({ rssStart, rssQr, rssReads, readMs }) + '\\n');
process.exit(0);
`;

export async function run(): Promise<BenchSection> {
  const runs = Number(process.env.YIKA_FOOTPRINT_RUNS ?? 7);
  const reads = Number(process.env.YIKA_FOOTPRINT_READS ?? 10_000);
  const verifications = Number(process.env.YIKA_FOOTPRINT_QR ?? 100_000);
  // The compiled build is what is measured: build it when a source is newer.
  execFileSync(process.execPath, [`${ROOT}scripts/build.mjs`, '--if-stale'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const yikad = `${ROOT}bin/yikad.js`;

  // yikad with PC/SC on and a serial reader: a socat PTY pair with the compiled simulator on one end.
  let pair: SocatPair | undefined;
  let reader: ChildProcess | undefined;
  if (socatAvailable()) {
    pair = await startSocatPair({ prefix: 'yika-bench-footprint-' });
    reader = spawn(process.execPath, [`${ROOT}bin/yika-sim.js`, '--pty', pair.b, '--seed', '3', '--no-stdin'], { stdio: 'ignore' });
  }
  const variants: Variant[] = [
    { label: 'node', args: ['-e', "console.log('ready'); setInterval(() => {}, 1000)"], ready: /ready/ },
    { label: 'fastify', args: ['--input-type=module', '-e', BARE_FASTIFY], ready: /ready/ },
    { label: 'sim', args: [yikad, '--sim', '--listen', '127.0.0.1:0'], ready: /"msg":"ready: http/ },
    ...(pair ? [{ label: 'hw', args: [yikad, '--pcsc', '--serial', pair.a, '--no-serial-discovery', '--listen', '127.0.0.1:0'], ready: /"msg":"ready: http/ }] : []),
  ];
  let starts: Start[];
  try {
    starts = await interleaved(variants, runs);
  } finally {
    reader?.kill('SIGTERM');
    await pair?.close();
  }
  const [bare, fastify, sim, hw] = starts;

  const load = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', LOAD_SCRIPT(verifications, reads)], { cwd: '/', encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!,
  ) as { rssStart: number; rssQr: number; rssReads: number; readMs: number };

  const fa = (name: string, value: number) => ({ name: `bare fastify ${name}`, value });
  const rows: BenchRow[] = [
    { name: 'yikad --sim start-to-ready (compiled, wall)', value: sim.ms, unit: 'ms', anchor: fa('start-to-listening', fastify.ms) },
    { name: 'yikad --sim start-to-ready (compiled, CPU time)', value: sim.cpuMs, unit: 'ms', anchor: fa('CPU time to listening', fastify.cpuMs) },
    { name: 'yikad --sim idle RSS (1.5 s after ready)', value: sim.rssMiB, unit: 'MiB', anchor: fa('idle RSS', fastify.rssMiB) },
    ...(hw
      ? [
          { name: 'yikad --pcsc --serial PTY start-to-ready (compiled, wall)', value: hw.ms, unit: 'ms', anchor: fa('start-to-listening', fastify.ms) },
          { name: 'yikad --pcsc --serial PTY start-to-ready (compiled, CPU time)', value: hw.cpuMs, unit: 'ms', anchor: fa('CPU time to listening', fastify.cpuMs) },
          { name: 'yikad --pcsc --serial PTY idle RSS', value: hw.rssMiB, unit: 'MiB', anchor: fa('idle RSS', fastify.rssMiB) },
        ]
      : []),
    { name: 'bare fastify start-to-listening (wall)', value: fastify.ms, unit: 'ms', anchor: { name: 'bare node -e start', value: bare.ms } },
    { name: 'bare fastify CPU time to listening', value: fastify.cpuMs, unit: 'ms', anchor: { name: 'bare node -e', value: bare.cpuMs } },
    { name: 'bare fastify idle RSS', value: fastify.rssMiB, unit: 'MiB', anchor: { name: 'bare node -e idle RSS', value: bare.rssMiB } },
    { name: `RSS after ${verifications.toLocaleString('en-US')} QR verifications (compiled, in-process)`, value: load.rssQr, unit: 'MiB', anchor: { name: 'same process after start', value: load.rssStart } },
    { name: `RSS after ${reads.toLocaleString('en-US')} full card reads (compiled, in-process)`, value: load.rssReads, unit: 'MiB', anchor: { name: 'same process after start', value: load.rssStart } },
    { name: 'full card read (22 files, service layer, speed 0)', value: load.readMs, unit: 'ms' },
  ];
  return {
    title: 'Footprint',
    command: COMMAND,
    rows,
    notes: [
      `Start: medians of ${runs} spawns per variant, interleaved (node -e, fastify, yikad --sim${hw ? ', yikad --pcsc --serial' : ''}, then again), from /, node ${process.version}, the compiled build (bin/yikad.js → dist/). Wall time is spawn to the ready line; CPU time is the child's user + system time at that moment — the steadier figure when other work loads the machine. Idle RSS 1.5 s after ready.`,
      hw
        ? 'yikad --pcsc --serial: PC/SC on (the pcsclite addon is loaded; whether pcscd runs does not change the footprint) and one serial reader: a socat PTY pair with the compiled simulator (bin/yika-sim.js --pty) on the other end.'
        : 'socat is missing: the PC/SC + serial variant was not measured.',
      'Loaded only when used: the simulator (--sim), ioredis (a Redis URL), pcsclite (PC/SC on), serialport (a serial port or discovery), yaml (a config or scenario file), the docs page (first GET /v1/docs), the QR verify pool threads (first offloaded verification). What remains at start: fastify with ajv (schemas of every route), @fastify/websocket + ws, pino, msgpackr, iconv-lite and the daemon itself.',
      'QR: 2,000 distinct demo codes verified round-robin (cold SM2 verification the first time, the verdict cache afterwards). Reads: the whole card with SAM authorization through HealthCardService. Both in one child process running dist/ (no tsx).',
      'YIKA_FOOTPRINT_RUNS, YIKA_FOOTPRINT_QR and YIKA_FOOTPRINT_READS change the counts.',
    ],
  };
}

// Runnable alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  if (!existsSync(`${ROOT}node_modules/fastify`)) throw new Error('run npm ci first');
  const { formatSection } = await import('./report.ts');
  process.stdout.write(formatSection(await run()));
  process.exit(0);
}
