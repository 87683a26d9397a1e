// HTTP throughput on a real loopback socket: a bare fastify route (the anchor: what the framework
// costs) against GET /v1/health through the whole API stack (security hooks, metrics, request
// logging at the silent level), and POST /v1/qr/verify of one valid code (served from the cache
// after the first request) when the QR routes exist. The load generator is a separate Node process
// (keep-alive http.Agent, N concurrent request loops), so client and server do not share an event
// loop; on two cores they still share the machine, which caps both figures alike.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { type BenchSection, median } from './bench-kit.ts';
import { buildServer } from '../daemon/api/server.ts';
import type { RouteModule } from '../daemon/context.ts';
import { EventBus } from '../daemon/events/event-bus.ts';
import { createLogger } from '../daemon/logging/logger.ts';
import { Metrics } from '../daemon/metrics/metrics.ts';

const CONCURRENCY = 16;
const SECONDS = 2;
const RUNS = 5;

// The load generator, plain JS so it starts fast without tsx.
const LOADGEN = `
import http from 'node:http';
const [url, method, body, concurrency, seconds] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const u = new URL(url);
const headers = body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {};
let ok = 0, failed = 0;
const end = performance.now() + Number(seconds) * 1000;
function once() {
  return new Promise((resolve) => {
    const req = http.request({ agent, host: u.hostname, port: u.port, path: u.pathname, method, headers }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode < 300) ok++; else failed++; resolve(); });
    });
    req.on('error', () => { failed++; resolve(); });
    if (body) req.write(body);
    req.end();
  });
}
async function loop() { while (performance.now() < end) await once(); }
const start = performance.now();
await Promise.all(Array.from({ length: Number(concurrency) }, loop));
process.stdout.write(JSON.stringify({ ok, failed, ms: performance.now() - start }));
agent.destroy();
`;

function loadOnce(url: string, method: string, body: string): Promise<{ ok: number; failed: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', LOADGEN, url, method, body, String(CONCURRENCY), String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
      else resolve(JSON.parse(out) as { ok: number; failed: number; ms: number });
    });
  });
}

interface Target {
  url: string;
  method?: string;
  body?: string;
}

/** Median req/s per target; the runs are interleaved so a busy machine slows every target alike. */
async function reqPerSecond(targets: Target[]): Promise<Array<{ rate: number; failed: number }>> {
  for (const t of targets) await loadOnce(t.url, t.method ?? 'GET', t.body ?? ''); // warm-up (JIT, caches, connections)
  const rates: number[][] = targets.map(() => []);
  const failed = targets.map(() => 0);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, t] of targets.entries()) {
      const r = await loadOnce(t.url, t.method ?? 'GET', t.body ?? '');
      failed[k] += r.failed;
      rates[k].push((r.ok * 1000) / r.ms);
    }
  }
  return targets.map((_t, k) => ({ rate: median(rates[k]), failed: failed[k] }));
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

/** The QR routes (demo trust) and one valid static code, when the QR modules are present. */
async function qrSetup(): Promise<{ routes: RouteModule; text: string; note: string; close: () => Promise<void> } | undefined> {
  const routesFile = new URL('../daemon/api/routes/qr.ts', import.meta.url);
  const serviceFile = new URL('../daemon/services/qr-service.ts', import.meta.url);
  if (!existsSync(routesFile) || !existsSync(serviceFile)) return undefined;
  const { qrRoutes } = (await import(routesFile.href)) as typeof import('../daemon/api/routes/qr.ts');
  const { QrService } = (await import(serviceFile.href)) as typeof import('../daemon/services/qr-service.ts');
  const { issueDemoCode } = await import('../qr/demo-trust.ts');
  const quiet = { info() {}, warn() {} };
  const service = new QrService({ demo: true, poolSize: 0, logger: quiet });
  await service.ready();
  // A static code: a dynamic one would be REPLAYED from the second request on (and rightly so).
  const text = issueDemoCode({ type: 'static' }).text;
  const first = await service.verify(text);
  if (!first.ok) throw new Error(`the demo code does not verify (${first.code})`);
  return { routes: qrRoutes(service), text, note: 'one valid static demo code, verified once then served from the verdict cache', close: () => service.close() };
}

export async function run(): Promise<BenchSection> {
  const notes: string[] = [];
  const bare = Fastify({ logger: false });
  bare.get('/bare', async () => ({ status: 'ok' }));
  const bareUrl = await listen(bare);

  const qr = await qrSetup().catch((e: unknown) => {
    notes.push(`POST /v1/qr/verify not measured: ${(e as Error).message}`);
    return undefined;
  });
  const ctx = {
    logger: createLogger({ level: 'silent' }),
    events: new EventBus(),
    metrics: new Metrics(),
    health: () => ({ status: 'ok' as const, degraded: [], uptimeSeconds: 1, version: 'bench' }),
    routes: qr ? [qr.routes] : [],
  };
  const app = await buildServer(ctx, { listen: '127.0.0.1:0', rateLimit: false, webPage: false });
  const appUrl = await listen(app);

  try {
    const targets: Target[] = [{ url: `${bareUrl}/bare` }, { url: `${appUrl}/v1/health` }];
    if (qr) targets.push({ url: `${appUrl}/v1/qr/verify`, method: 'POST', body: JSON.stringify({ text: qr.text }) });
    const [anchor, health, verify] = await reqPerSecond(targets);
    const rows: BenchSection['rows'] = [
      { name: 'bare fastify GET (anchor)', value: Math.round(anchor.rate), unit: 'req/s' },
      {
        name: 'GET /v1/health (full API stack)',
        value: Math.round(health.rate),
        unit: 'req/s',
        anchor: { name: 'bare fastify GET', value: Math.round(anchor.rate) },
        note: 'host/origin/token checks, metrics, request log (silent)',
      },
    ];
    if (qr && verify) {
      rows.push({
        name: 'POST /v1/qr/verify (cached)',
        value: Math.round(verify.rate),
        unit: 'req/s',
        anchor: { name: 'bare fastify GET', value: Math.round(anchor.rate) },
        note: qr.note,
      });
      if (verify.failed) notes.push(`${verify.failed} verify requests failed`);
    } else if (!notes.length) {
      notes.push('POST /v1/qr/verify not measured: the QR routes (daemon/api/routes/qr.ts) are not present');
    }
    if (anchor.failed || health.failed) notes.push(`failed requests: anchor ${anchor.failed}, health ${health.failed}`);
    notes.push(`${CONCURRENCY} concurrent keep-alive connections from a separate process, ${SECONDS} s × ${RUNS} interleaved runs, median; server and client share the machine's cores.`);
    return { title: 'HTTP API (loopback)', command: 'npm run bench -- http', rows, notes };
  } finally {
    await app.close();
    await bare.close();
    await qr?.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((s) => console.log(JSON.stringify(s, null, 2)));
}
