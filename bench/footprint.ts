// Footprint: daemon start-to-ready time and idle RSS (yikad --sim as a child process, time from spawn
// to its "ready" log line), next to a bare `node -e` start and a bare fastify start measured in the
// same run; and the RSS of one process after 100k QR verifications and after N full card reads
// through the daemon's own service layer (in-process simulator, no delays).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { median, type BenchRow, type BenchSection } from './bench-kit.ts';

const COMMAND = 'node --import tsx bench/footprint.ts';
const ROOT = new URL('..', import.meta.url).pathname;
const MiB = 1024 * 1024;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? (Number(m[1]) * 1024) / MiB : NaN;
}

/** Spawns a process, resolves when a stdout/stderr line matches `ready`: ms to ready and idle RSS (after idleMs). */
function startToReady(args: string[], ready: RegExp, idleMs = 1500): Promise<{ ms: number; rssMiB: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, YIKA_LOG_LEVEL: 'info' } });
    let buf = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`no ready line from ${args.join(' ')} within 60 s`)), 60_000);
    const finish = (err?: Error, value?: { ms: number; rssMiB: number }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGTERM');
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (!ready.test(buf) || done) return;
      const ms = performance.now() - t0;
      ready = /$^/; // once
      setTimeout(() => {
        try {
          finish(undefined, { ms, rssMiB: rssOf(child.pid!) });
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

async function medianStart(args: string[], ready: RegExp, runs: number): Promise<{ ms: number; rssMiB: number }> {
  const all: Array<{ ms: number; rssMiB: number }> = [];
  for (let i = 0; i < runs; i++) all.push(await startToReady(args, ready));
  return { ms: median(all.map((x) => x.ms)), rssMiB: median(all.map((x) => x.rssMiB)) };
}

const BARE_FASTIFY = `import Fastify from 'fastify'; const app = Fastify(); app.get('/', async () => 'ok'); await app.listen({ host: '127.0.0.1', port: 0 }); console.log('ready'); setInterval(() => {}, 1000);`;

export async function run(): Promise<BenchSection> {
  const runs = Number(process.env.YIKA_FOOTPRINT_RUNS ?? 5);
  const reads = Number(process.env.YIKA_FOOTPRINT_READS ?? 10_000);
  const verifications = Number(process.env.YIKA_FOOTPRINT_QR ?? 100_000);
  const bare = await medianStart(['-e', "console.log('ready'); setInterval(() => {}, 1000)"], /ready/, runs);
  const fastify = await medianStart(['--input-type=module', '-e', BARE_FASTIFY], /ready/, runs);
  const daemon = await medianStart(['--import', 'tsx', 'daemon/main.ts', '--sim', '--listen', '127.0.0.1:0', '--no-pcsc'], /ready: http/, runs);

  // In this process: the daemon's services after many operations.
  const { createApp } = await import('../daemon/app.ts');
  const { loadConfig, parseDaemonFlags } = await import('../daemon/config/load-config.ts');
  const { createLogger } = await import('../daemon/logging/logger.ts');
  const { issueDemoCode } = await import('../qr/demo-trust.ts');
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), {});
  const app = await createApp({ config, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  for (let i = 0; i < 200 && app.registry.find('sim-1')?.toJSON().slots[0].card !== 'present'; i++) await new Promise((r) => setTimeout(r, 25));
  const rssStart = process.memoryUsage().rss / MiB;
  await app.qr!.ready();
  // 2,000 distinct demo codes, each verified 50 times: cold verifications, then the verdict cache.
  const codes = Array.from({ length: Math.min(2000, verifications) }, (_, i) => issueDemoCode({ card: 100 + i, type: 'static', ttl: 86_400 }).text);
  for (let i = 0; i < verifications; i++) await app.qr!.verify(codes[i % codes.length]);
  const rssQr = process.memoryUsage().rss / MiB;
  const t0 = performance.now();
  for (let i = 0; i < reads; i++) await app.healthCards.read('sim-1');
  const readMs = (performance.now() - t0) / reads;
  const rssReads = process.memoryUsage().rss / MiB;
  await app.close();

  const rows: BenchRow[] = [
    { name: 'daemon start-to-ready (yikad --sim, tsx)', value: daemon.ms, unit: 'ms', anchor: { name: 'bare fastify start', value: fastify.ms } },
    { name: 'bare fastify start-to-listening', value: fastify.ms, unit: 'ms', anchor: { name: 'bare node -e start', value: bare.ms } },
    { name: 'daemon idle RSS (1.5 s after ready)', value: daemon.rssMiB, unit: 'MiB', anchor: { name: 'bare fastify idle RSS', value: fastify.rssMiB } },
    { name: 'bare fastify idle RSS', value: fastify.rssMiB, unit: 'MiB', anchor: { name: 'bare node -e idle RSS', value: bare.rssMiB } },
    { name: `in-process RSS after ${verifications.toLocaleString('en-US')} QR verifications`, value: rssQr, unit: 'MiB', anchor: { name: 'same process before', value: rssStart } },
    { name: `in-process RSS after ${reads.toLocaleString('en-US')} full card reads`, value: rssReads, unit: 'MiB', anchor: { name: 'same process before', value: rssStart } },
    { name: 'full card read (22 files, service layer, speed 0)', value: readMs, unit: 'ms' },
  ];
  return {
    title: 'Footprint',
    command: COMMAND,
    rows,
    notes: [
      `Start times are medians of ${runs} spawns each (node ${process.version}); the daemon runs through tsx (TypeScript compiled at start), which is part of its start time.`,
      'QR: 2,000 distinct demo codes verified round-robin (cold SM2 verification the first time, the verdict cache afterwards). Reads: the whole card with SAM authorization through HealthCardService.',
      'YIKA_FOOTPRINT_RUNS, YIKA_FOOTPRINT_QR and YIKA_FOOTPRINT_READS change the counts.',
    ],
  };
}

// Runnable alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatSection } = await import('./report.ts');
  process.stdout.write(formatSection(await run()));
  process.exit(0);
}
