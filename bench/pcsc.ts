// APDU round trips over PC/SC: a real pcscd with vsmartcard's vpcd driver and the simulated card
// (`yika-sim --vpcd`, a separate process, speed 0). pcscd and the card run in a network namespace whose
// loopback routes have `quickack 1` (vpcd 0.8 otherwise stalls ≈ 44 ms per message on Nagle + delayed
// ACK); this process stays outside and reaches pcscd through its socket file /run/pcscd/pcscd.comm.
// Side by side in one run, interleaved in rounds so that a busy machine slows every path alike:
//   (a) raw pcsclite transmit of SELECT MF (the anchor);
//   (b) the same APDU through the daemon's reader model in-process: session lock, channel, trace
//       (off, the default; and on), PcscBackend — what POST …/apdu does minus HTTP;
//   (c) POST /v1/readers/pcsc-1/slots/1/apdu over loopback HTTP (keep-alive, one client in this process).
// Also a full health-card read over PC/SC (card + SAM on two vpcd readers), and a one-off raw round
// trip without the namespace, which is what explains the figure on a machine without quickack.
// pcsclite must load on the main thread (it aborts in worker threads): bench/run.ts runs sections there.
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { createApp, type YikaApp } from '../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../daemon/config/load-config.ts';
import { loadPcsclite } from '../daemon/devices/pcsc-backend.ts';
import { launchPcscd, pcscUnavailableReason, type PcscdHandle } from '../daemon/devices/pcscd-launcher.ts';
import type { PcscCardReader, PcscContext } from '../daemon/devices/pcsclite-types.ts';
import { createLogger } from '../daemon/logging/logger.ts';
import type { Reader } from '../daemon/readers/reader.ts';
import { median, type BenchRow, type BenchSection } from './bench-kit.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CARD_READER = 'Virtual PCD 00 00';
const SELECT_MF = Uint8Array.from([0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00]);
const TARGET_MS = 0.2;
/** APDUs per path per round, and rounds (each round runs every path once, in turn). */
const PER_ROUND = 200;
const ROUNDS = 15;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// ---- raw pcsclite (the anchor) ----

class RawPcsc {
  private reader: PcscCardReader | undefined;
  private protocol = 0;
  private constructor(private readonly ctx: PcscContext) {}

  /** A pcsclite context connected (shared) to the card of `readerName`. */
  static async open(readerName: string, timeoutMs = 30_000): Promise<RawPcsc> {
    const raw = new RawPcsc(loadPcsclite().factory!());
    raw.ctx.on('error', () => {});
    try {
      const reader = await new Promise<PcscCardReader>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`pcsclite: no reader "${readerName}" within ${timeoutMs} ms`)), timeoutMs);
        raw.ctx.on('reader', (r: PcscCardReader) => {
          r.on('error', () => {});
          if (r.name !== readerName) return;
          r.on('status', (s: { state: number }) => {
            if (s.state & r.SCARD_STATE_PRESENT) {
              clearTimeout(t);
              resolve(r);
            }
          });
        });
      });
      raw.reader = reader;
      raw.protocol = await new Promise<number>((resolve, reject) =>
        reader.connect({ share_mode: reader.SCARD_SHARE_SHARED, protocol: reader.SCARD_PROTOCOL_T0 | reader.SCARD_PROTOCOL_T1 }, (err, p) => (err ? reject(err as Error) : resolve(p))),
      );
    } catch (e) {
      raw.close();
      throw e;
    }
    return raw;
  }

  transmit(apdu: Buffer): Promise<Buffer> {
    const r = this.reader!;
    return new Promise((resolve, reject) => r.transmit(apdu, 258, this.protocol, (err, data) => (err ? reject(err as Error) : resolve(data))));
  }

  /** Disconnects and closes every reader, then the context (pcsc.close() alone hangs the process). */
  close(): void {
    const r = this.reader;
    if (r) {
      if (r.connected) r.disconnect(r.SCARD_LEAVE_CARD, () => {});
      r.removeAllListeners();
      r.on('error', () => {});
      try {
        r.close();
      } catch {
        // gone
      }
    }
    this.ctx.removeAllListeners();
    this.ctx.on('error', () => {});
    try {
      this.ctx.close();
    } catch {
      // closed
    }
  }
}

// ---- the environment: pcscd (+ namespace) and the simulator process ----

interface PcscEnv {
  pcscd: PcscdHandle;
  sim: ChildProcess;
  simOutput(): string;
  close(): Promise<void>;
}

async function startEnv(quickack: boolean): Promise<PcscEnv> {
  const pcscd = await launchPcscd({ quickack, lockTimeoutMs: 120_000 });
  let out = '';
  // The card must reach vpcd's loopback ports: it runs next to pcscd, in the same namespace.
  const sim = pcscd.spawnNear(process.execPath, ['--import', 'tsx', `${ROOT}firmware-sim/cli.ts`, '--vpcd', '35963', '--vpcd-sam', '35964', '--seed', '8', '--no-stdin']);
  sim.stdout?.on('data', (d) => (out = (out + d).slice(-4000)));
  sim.stderr?.on('data', (d) => (out = (out + d).slice(-4000)));
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    process.off('exit', onExit);
    if (sim.exitCode === null && sim.signalCode === null) {
      const exited = new Promise((r) => sim.once('exit', r));
      sim.kill('SIGTERM');
      const t = setTimeout(() => sim.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await pcscd.release();
  };
  // A crash of the bench process (not an exception we catch) must not leave children or the namespace.
  const onExit = () => {
    sim.kill('SIGKILL');
    pcscd.abandon();
  };
  process.on('exit', onExit);
  return { pcscd, sim, simOutput: () => out, close };
}

// ---- the measurements ----

/** Mean time per call of `n` sequential calls, ms. */
async function perCall(fn: () => Promise<unknown>, n: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - start) / n;
}

/** Raw APDUs need a token even from loopback (docs/API.md "Capabilities"). */
const BENCH_TOKEN = 'bench-token-0123456789abcdef';

function postJson(agent: http.Agent, url: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${BENCH_TOKEN}` } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const sw = (r: Uint8Array) => Buffer.from(r.subarray(r.length - 2)).toString('hex').toUpperCase();

interface NamespaceFigures {
  netns: boolean;
  raw: number;
  daemon: number;
  overhead: number;
  daemonTrace: number;
  daemonHeld: number;
  http?: number;
  bareHttp?: number;
  readMs: number;
  readApdus: number;
  readRoundTrips: number;
}

async function measureWithDaemon(quickack: boolean): Promise<NamespaceFigures> {
  const env = await startEnv(quickack);
  let app: YikaApp | undefined;
  let raw: RawPcsc | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // The framework's own round trip (no APDU): separates what HTTP costs from what the route adds.
  const bare = Fastify();
  bare.post('/apdu', async () => ({ response: '9000', sw: '9000', data: '' }));
  try {
    const bareBase = await bare.listen({ host: '127.0.0.1', port: 0 });
    const config = loadConfig(parseDaemonFlags(['--listen', '127.0.0.1:0', '--pcsc', '--no-serial-discovery']), {});
    config.api.rateLimit = false;
    config.api.token = BENCH_TOKEN; // raw APDUs need a token, also from loopback
    app = await createApp({ config, logger: createLogger({ level: 'silent' }) });
    await app.startDevices();
    const base = await app.listen();
    const a = app;
    const reader: Reader = await until(
      `reader pcsc-1 with card and SAM (simulator output: ${env.simOutput().slice(-300)})`,
      () => {
        const r = a.registry.find('pcsc-1');
        const m = r?.toJSON();
        return m && m.slots.length === 2 && m.slots.every((s) => s.card === 'present') ? r : undefined;
      },
      60_000,
    );
    // The daemon powers the card first (its power-on resets); the raw client then joins, shared.
    const first = await reader.session('bench', async (s) => {
      await s.ensurePowered(1);
      return s.channel(1).transmit(SELECT_MF);
    });
    if (sw(first) !== '9000') throw new Error(`SELECT MF answered ${sw(first)}`);
    raw = await RawPcsc.open(CARD_READER);
    const rawApdu = Buffer.from(SELECT_MF);
    const r0 = await raw.transmit(rawApdu);
    if (sw(r0) !== '9000') throw new Error(`raw SELECT MF answered ${sw(r0)}`);

    const rawPath = () => raw!.transmit(rawApdu);
    // What POST /v1/readers/:id/slots/:slot/apdu does, without HTTP: one lock + channel per APDU.
    const daemonPath = () => reader.session('bench', (s) => s.channel(1).transmit(SELECT_MF));
    const url = new URL(`${base}/v1/readers/pcsc-1/slots/1/apdu`);
    const body = JSON.stringify({ apdu: '00A40000023F00' });
    const httpPath = async () => {
      const status = await postJson(agent, url, body);
      if (status !== 200) throw new Error(`POST ${url.pathname} answered ${status}`);
    };
    const bareUrl = new URL(`${bareBase}/apdu`);
    const barePath = async () => {
      const status = await postJson(agent, bareUrl, body);
      if (status !== 200) throw new Error(`bare POST answered ${status}`);
    };
    const held = async (n: number) =>
      reader.session('bench held', async (s) => {
        const ch = s.channel(1);
        return perCall(() => ch.transmit(SELECT_MF), n);
      });
    const withTrace = async (n: number) => {
      reader.trace.configure({ enabled: true });
      try {
        return await perCall(daemonPath, n);
      } finally {
        reader.trace.configure({ enabled: false });
        reader.trace.clear();
      }
    };

    // Warm-up of every path (JIT, connections).
    await perCall(rawPath, 100);
    await perCall(daemonPath, 100);
    await held(100);
    await withTrace(100);
    await perCall(httpPath, 50);
    await perCall(barePath, 50);

    const rawMs: number[] = [];
    const daemonMs: number[] = [];
    const diffMs: number[] = [];
    const traceMs: number[] = [];
    const heldMs: number[] = [];
    const httpMs: number[] = [];
    const bareMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Order alternates so that neither path always follows the other.
      const flip = round % 2 === 1;
      const d1 = flip ? await perCall(daemonPath, PER_ROUND) : 0;
      const r = await perCall(rawPath, PER_ROUND);
      const d = flip ? d1 : await perCall(daemonPath, PER_ROUND);
      rawMs.push(r);
      daemonMs.push(d);
      diffMs.push(d - r);
      traceMs.push(await withTrace(PER_ROUND));
      heldMs.push(await held(PER_ROUND));
      httpMs.push(await perCall(httpPath, PER_ROUND / 4));
      bareMs.push(await perCall(barePath, PER_ROUND / 4));
    }

    // A full read (card + SAM authorization), the way GET /v1/readers/pcsc-1/healthcard does it.
    await app.healthCards.read('pcsc-1', { files: ['all'] });
    const reads: number[] = [];
    let readApdus = 0;
    let readRoundTrips = 0;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      const res = await app.healthCards.read('pcsc-1', { files: ['all'] });
      reads.push(performance.now() - start);
      readApdus = res.apdus;
      readRoundTrips = res.roundTrips;
    }

    return {
      netns: env.pcscd.netns !== undefined,
      raw: median(rawMs),
      daemon: median(daemonMs),
      overhead: median(diffMs),
      daemonTrace: median(traceMs),
      daemonHeld: median(heldMs),
      http: median(httpMs),
      bareHttp: median(bareMs),
      readMs: median(reads),
      readApdus,
      readRoundTrips,
    };
  } finally {
    agent.destroy();
    await bare.close();
    raw?.close();
    await app?.close().catch(() => {});
    await env.close();
  }
}

/** Raw round trip only (the one-off comparison without the quickack namespace). */
async function measureRawOnly(quickack: boolean, apdus: number): Promise<{ ms: number; netns: boolean }> {
  const env = await startEnv(quickack);
  let raw: RawPcsc | undefined;
  try {
    raw = await RawPcsc.open(CARD_READER, 60_000);
    const apdu = Buffer.from(SELECT_MF);
    const r = raw;
    await r.transmit(apdu);
    const times: number[] = [];
    for (let i = 0; i < apdus; i++) times.push(await perCall(() => r.transmit(apdu), 1));
    return { ms: median(times), netns: env.pcscd.netns !== undefined };
  } finally {
    raw?.close();
    await env.close();
  }
}

export async function run(): Promise<BenchSection> {
  const title = 'Health card over PC/SC: daemon overhead per APDU over raw pcsclite (pcscd + vpcd)';
  const command = 'node --import tsx bench/pcsc.ts';
  const reason = pcscUnavailableReason() ?? (loadPcsclite().factory ? undefined : loadPcsclite().error);
  if (reason) return { title, command, rows: [], notes: [`Not measured: ${reason}.`] };

  let f: NamespaceFigures;
  try {
    f = await measureWithDaemon(true);
  } catch (e) {
    return { title, command, rows: [], notes: [`Not measured: ${(e as Error).message}`] };
  }
  const rows: BenchRow[] = [
    { name: 'SELECT MF, raw pcsclite transmit (anchor)', value: f.raw, unit: 'ms' },
    { name: 'same APDU through the daemon: session lock + reader channel + PcscBackend, trace off, in-process', value: f.daemon, unit: 'ms', anchor: { name: 'raw pcsclite', value: f.raw } },
    {
      name: `daemon overhead per PC/SC APDU (median of per-round differences), target ≤ ${TARGET_MS} ms`,
      value: f.overhead,
      unit: 'ms',
      anchor: { name: 'target', value: TARGET_MS },
      note: f.overhead <= TARGET_MS ? 'meets the target' : 'OVER the target',
    },
    { name: 'through the daemon with the APDU trace on', value: f.daemonTrace, unit: 'ms', anchor: { name: 'raw pcsclite', value: f.raw } },
    { name: 'through the daemon, many APDUs under one held session (as a card read does)', value: f.daemonHeld, unit: 'ms', anchor: { name: 'raw pcsclite', value: f.raw } },
  ];
  if (f.http !== undefined) {
    rows.push({
      name: 'POST /v1/readers/pcsc-1/slots/1/apdu (HTTP keep-alive, one client in the same process)',
      value: f.http,
      unit: 'ms',
      anchor: { name: 'raw pcsclite + a bare fastify POST round trip', value: f.raw + (f.bareHttp ?? 0) },
    });
  }
  rows.push(
    { name: 'full health-card read over PC/SC (22 files, SAM-authorized)', value: f.readMs, unit: 'ms', anchor: { name: `${f.readApdus} APDUs × raw SELECT round trip`, value: f.readApdus * f.raw } },
    { name: 'PC/SC round trips per full read (no batching over PC/SC)', value: f.readRoundTrips, unit: 'round trips', anchor: { name: 'APDUs (card + SAM)', value: f.readApdus } },
  );
  const notes = [
    'Part of `npm run bench -- card`; alone: `node --import tsx bench/pcsc.ts` (needs root for `ip netns`, pcscd, vsmartcard-vpcd and the pcsclite addon; one pcscd per machine, so no other pcscd may run).',
    f.netns
      ? 'pcscd and the simulated card (`yika-sim --vpcd 35963 --vpcd-sam 35964`, speed 0) run in a network namespace whose loopback routes have `quickack 1`; the bench process is outside it and reaches pcscd through /run/pcscd/pcscd.comm.'
      : 'NO quickack namespace here (`ip netns` was not permitted): pcscd and the card run on the host network, so every vpcd message may wait for a delayed ACK and the round trips below are dominated by it.',
    `Paths run interleaved: ${ROUNDS} rounds of ${PER_ROUND} APDUs each (HTTP: ${PER_ROUND / 4}); each figure is the median of the per-round means. The overhead is the median of the per-round differences daemon − raw, so it is not thrown off by the machine being slower in one round.`,
    'The daemon path takes the reader session lock and makes a channel per APDU (what POST …/apdu does without HTTP); the APDU trace is off unless stated (the default). The raw client and the daemon share the card (SCARD_SHARE_SHARED).',
    'The HTTP row is measured like the others but with the client, fastify and the daemon on one event loop; its anchor adds the round trip of a bare fastify POST route (same client, same body), so the ratio shows what the daemon\'s route (security hooks, schema, hex, lock) adds on top of HTTP itself.',
    'A full read sends larger APDUs (record reads up to 256 bytes, the photo and visit files) than SELECT MF, so its anchor (APDUs × the SELECT round trip) is a lower bound of the pure PC/SC time.',
  ];
  if (f.netns) {
    try {
      const plain = await measureRawOnly(false, 15);
      rows.push({ name: 'SELECT MF, raw pcsclite, WITHOUT the quickack namespace (one-off)', value: plain.ms, unit: 'ms', anchor: { name: 'with the namespace', value: f.raw } });
      notes.push('Without the namespace Debian\'s vpcd 0.8 stalls on Nagle + delayed ACK for every message: that, not the daemon, sets the round trip of a vpcd reader on a normal loopback.');
    } catch (e) {
      notes.push(`The comparison without the namespace failed: ${(e as Error).message}`);
    }
  } else {
    notes.push('The comparison with and without the namespace was not run (no namespace available).');
  }
  return { title, command, rows, notes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatSection } = await import('./report.ts');
  process.stdout.write(formatSection(await run()) + '\n');
  process.exit(0);
}
