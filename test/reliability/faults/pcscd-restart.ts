// pcscd restart during a read: a real pcscd with vsmartcard's vpcd driver (in a quickack network
// namespace when possible, as test/support/pcscd.ts sets it up), the simulated health card and its SAM
// on the two vpcd readers (served from this process through the socat relay), and the whole daemon
// in-process with its PC/SC backend. Each run starts a full SAM-authorized read over the API, then
// stops pcscd (SIGTERM or SIGKILL, chosen by the seed) at a seeded moment within the read, keeps it
// down for a seeded while and starts it again. The read must end in the exact card data or a typed
// error (never other data, never a hang: bounded by READ_DEADLINE_MS, a crash otherwise); the reader
// must come back by itself under the same id and the next read must be exact (recovery time noted).
// Skipped loudly (a SKIPPED row, never a pass) without Linux, root, pcscd, vpcd or the pcsclite addon.
import { createApp, type YikaApp } from '../../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../../daemon/config/load-config.ts';
import { loadPcsclite } from '../../../daemon/devices/pcsc-backend.ts';
import { createSimulator, type Simulator } from '../../../firmware-sim/index.ts';
import { pcscUnavailableReason, startPcscd, type PcscdHandle } from '../../support/pcscd.ts';
import { injectJson, SUITE_SAM_PIN, startDaemon, typedError, watchProfile, type Reply } from '../kit/daemon-harness.ts';
import { until } from '../../support/until.ts';
import { suiteLogs } from '../kit/log-capture.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';
import { rng } from '../kit/rng.ts';
import { FULL_READ, classifyRead } from './card-harness.ts';

const READER = 'pcsc-1';
/** Every file: DDF1 and DF01–DF03 with SAM authorization, the photo and the visits. */
const READ = `/v1/readers/${READER}/healthcard?files=all`;
/** A read that has not ended after this long is a hang (a crash). */
const READ_DEADLINE_MS = 30_000;
/** The reader must be back with card and SAM within this long after pcscd listens again. */
const RECOVERY_DEADLINE_MS = 30_000;
/** pcscd stays down for 0 … this long (seeded). */
const MAX_DOWN_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why the block cannot run here (undefined when it can). */
function pcscdRestartSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux (pcscd + vsmartcard-vpcd)';
  if (process.getuid?.() !== 0) return 'needs root (pcscd creates /run/pcscd; the quickack namespace needs ip netns)';
  const reason = pcscUnavailableReason();
  if (reason) return reason;
  const addon = loadPcsclite();
  return addon.factory ? undefined : (addon.error ?? 'the pcsclite addon is not built');
}

const inject = (app: YikaApp, url: string): Promise<Reply> => injectJson(app, 'GET', url);

/** The reply, or 'hang' when it has not come within `ms`. */
function bounded<T>(p: Promise<T>, ms: number): Promise<T | 'hang'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), ms)))]).finally(() => clearTimeout(timer));
}

const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

export async function pcscdRestart(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Faults', 'pcscd restart during a read (real pcscd + vpcd, SIGTERM/SIGKILL)', o.seed);
  const skip = (reason: string): BlockResult => {
    console.warn(`SKIPPED: the pcscd restart block does not run: ${reason}`);
    t.skip(reason);
    return t.done();
  };
  const reason = pcscdRestartSkipReason();
  if (reason) return skip(reason);

  const r = rng(o.seed);
  const cardSeed = o.seed;
  let pcscd: PcscdHandle;
  try {
    pcscd = await startPcscd({ quickack: true, cardsInProcess: true, lockTimeoutMs: 60_000 });
  } catch (e) {
    // Another pcscd (a system service, or one held by another test process past the lock timeout):
    // one pcscd per machine, so this block cannot run now. Anything else is a failure of the block.
    const m = (e as Error).message;
    if (/not started by the tests|lock .* held/.test(m)) return skip(m);
    throw e;
  }
  // A crash of the suite process must not leave pcscd, the relays or the namespace behind.
  const onExit = () => pcscd.abandon();
  process.on('exit', onExit);
  let sim: Simulator | undefined;
  let app: YikaApp | undefined;
  try {
    sim = createSimulator({ seed: cardSeed, samPin: SUITE_SAM_PIN });
    watchProfile(sim.profile);
    const cardAt = await pcscd.vpcdAddress(35963);
    const samAt = await pcscd.vpcdAddress(35964);
    const vpcd = [sim.serveVpcd({ ...cardAt, slot: 0x01 }), sim.serveVpcd({ ...samAt, slot: 0x11 })];

    const config = loadConfig(parseDaemonFlags(['--listen', '127.0.0.1:0', '--pcsc', '--no-serial-discovery']), {});
    config.sam.pin = SUITE_SAM_PIN;
    (config.api as { rateLimit?: unknown }).rateLimit = false;
    app = await createApp({ config, logger: suiteLogs.logger() });
    const a = app;
    const attaches: Array<{ type: string; at: number }> = [];
    a.events.subscribe((e) => {
      if ((e.type === 'reader.attached' || e.type === 'reader.detached') && e.readerId === READER) attaches.push({ type: e.type, at: performance.now() });
    });
    await a.startDevices();
    /** pcsc-1 online with the card and the SAM both seen. */
    const ready = (): boolean => {
      const m = a.registry.find(READER)?.toJSON();
      return !!m && m.health === 'ok' && m.slots.length === 2 && m.slots.every((s) => s.card === 'present' || s.card === 'powered');
    };
    await until('pcsc-1 with the card and the SAM', ready, 60_000, 10).catch((e: Error) => {
      // Say what was there instead: the readers, the backend and the card relays.
      const readers = a.registry.list().map((x) => x.toJSON()).map((m) => ({ id: m.id, health: m.health, slots: m.slots.map((s) => `${s.slot}:${s.card}`) }));
      throw new Error(`${e.message}; readers ${JSON.stringify(readers)}; degraded ${JSON.stringify(a.health().degraded)}; backends ${JSON.stringify(a.backends.map((b) => b.status()))}; vpcd clients ${JSON.stringify(vpcd.map((c) => ({ connected: c.connected, ...c.counters() })))}`);
    });

    // The reference: a read over PC/SC, checked against the same card read over the simulator's own
    // link (another daemon, the harness of the other blocks); and how long a read takes here.
    const first = await inject(a, READ);
    if (first.status !== 200) throw new Error(`the reference read over PC/SC answered ${first.status} ${typedError(first.body) ?? ''}`);
    const baseline = first.body.files;
    const ref = await startDaemon({ seed: cardSeed });
    try {
      const viaLink = await ref.inject('GET', FULL_READ);
      if (viaLink.status !== 200) throw new Error(`the reference read over the simulator link answered ${viaLink.status}`);
      if (JSON.stringify(viaLink.body.files) !== JSON.stringify(baseline)) t.wrong('the reference read over PC/SC differs from the same card read over the simulator link');
    } finally {
      await ref.close();
    }
    const readTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const began = performance.now();
      const res = await inject(a, READ);
      readTimes.push(performance.now() - began);
      if (res.status === 200 && JSON.stringify(res.body.files) === JSON.stringify(baseline)) t.count('undisturbed read exact (before the restarts)');
      else t.wrong(`undisturbed read ${i} answered ${res.status} ${typedError(res.body) ?? ''} or other data`);
    }
    const readMs = pct(readTimes, 0.5);
    t.note(`card seed ${cardSeed}; ${pcscd.netns ? 'pcscd and vpcd in a quickack namespace' : 'NO quickack namespace (host network): vpcd stalls ≈ 44 ms per message'}; an undisturbed full read (every file, SAM-authorized) takes ${readMs.toFixed(0)} ms`);

    const recoveries: number[] = [];
    const byKind: Record<string, number> = {};
    let midRead = 0;
    let notNoticed = 0;
    for (let i = 0, n = scaled(o, 20, 3); i < n; i++) {
      const signal = r.pick(['SIGTERM', 'SIGKILL'] as const);
      const atMs = r.next() * readMs;
      const downMs = r.int(MAX_DOWN_MS + 1);
      const what = `run ${i}: pcscd ${signal} at ${atMs.toFixed(0)} ms of the read, down ${downMs} ms`;
      let ended = false;
      const read = bounded(inject(a, READ), READ_DEADLINE_MS).finally(() => (ended = true));
      await sleep(atMs);
      if (!ended) midRead++;
      const killedAt = performance.now();
      const eventsBefore = attaches.length;
      await pcscd.stop(signal);
      await sleep(downMs);
      await pcscd.restart();
      const back = performance.now();

      const res = await read;
      if (res === 'hang') {
        // The reader lock is still held by the hung read: later runs would only measure that.
        t.crash(`${what}: the read did not end within ${READ_DEADLINE_MS / 1000} s`);
        break;
      }
      const kind = classifyRead(t, res, baseline, what);
      const cause = res.body?.error?.details?.causeCode;
      const label = kind === 'correct' ? 'correct' : `${typedError(res.body) ?? 'other'}${typeof cause === 'string' ? ` (cause ${cause})` : ''}`;
      byKind[`${signal} ${label}`] = (byKind[`${signal} ${label}`] ?? 0) + 1;

      // Recovery: the backend noticed (reader detached), the reader is back (attached again, card and
      // SAM present) under the same id, and the next read is exact.
      try {
        await until('the daemon noticed pcscd going away', () => attaches.slice(eventsBefore).some((e) => e.type === 'reader.detached'), 5000, 10).catch(() => {
          notNoticed++;
          return true;
        });
        await until(
          'the reader back with card and SAM',
          () => ready() && (() => {
            const since = attaches.slice(eventsBefore);
            return since.length === 0 || since[since.length - 1].type === 'reader.attached';
          })(),
          RECOVERY_DEADLINE_MS,
          10,
        );
        const ids = a.registry.list().map((x) => x.id).join();
        if (ids !== READER) {
          t.wrong(`${what}: reader ids after the restart: ${ids}`);
          continue;
        }
        const next = await bounded(inject(a, READ), READ_DEADLINE_MS);
        if (next === 'hang') {
          t.crash(`${what}: the read after recovery did not end within ${READ_DEADLINE_MS / 1000} s`);
          break;
        }
        if (next.status === 200 && JSON.stringify(next.body.files) === JSON.stringify(baseline)) {
          t.count('recovered by itself (same reader id, next read exact)');
          recoveries.push(performance.now() - back);
        } else if (next.status === 200) t.wrong(`${what}: the read after recovery returned other data`);
        else t.crash(`${what}: no recovery, the read after it answered ${next.status} ${typedError(next.body) ?? 'untyped'}`);
      } catch (e) {
        t.crash(`${what}: no recovery (${(e as Error).message}; ${((performance.now() - killedAt) / 1000).toFixed(1)} s after the kill)`);
      }
    }
    t.note(`${midRead} restarts landed while the read was running; read outcomes by signal: ${Object.entries(byKind).sort().map(([k, v]) => `${v} ${k}`).join(', ')}`);
    if (recoveries.length) {
      t.note(
        `recovery (pcscd listening again → reader back under ${READER} and an exact read done): median ${(pct(recoveries, 0.5) / 1000).toFixed(2)} s, max ${(Math.max(...recoveries) / 1000).toFixed(2)} s over ${recoveries.length} restarts`,
      );
    }
    if (notNoticed) t.note(`${notNoticed} restarts were not followed by a reader.detached event within 5 s`);
  } finally {
    await app?.close().catch(() => {});
    await sim?.close().catch(() => {});
    await pcscd.release();
    process.off('exit', onExit);
  }
  return t.done();
}
