// Two desks (two verifiers with their own local state) sharing one real redis-server on a unix
// socket: a dynamic code used at desk A is REPLAYED at desk B; concurrent first uses have exactly one
// winner; verdicts are shared; an outage (redis killed mid-test) degrades to local checks with a
// warning, policy "fail" refuses, and the codes accepted during the outage reach Redis once it is back.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/until.ts';
import { RedisSharedStore } from '../../qr/stores/redis-shared-store.ts';
import type { Verifier } from '../../qr/verifier.ts';
import { sm3 } from '../../crypto/index.ts';
import { DAY, cardId, code, keyIdOf, keys, makeStore, makeVerifier } from '../unit/qr/qr-test-trust.ts';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis) console.warn('SKIPPED: redis-server not found; the shared-store tests (qr-redis) do not run');

const dir = mkdtempSync(join(tmpdir(), 'yika-qr-redis-'));
const socket = join(dir, 'redis.sock');
let redis: ChildProcess | undefined;
const stores: RedisSharedStore[] = [];
const PREFIX = `yika-test:${process.pid}:`;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Keys of this test's prefix in Redis matching `pattern` (read with redis-cli, beside the desks' clients). */
function redisKeys(pattern: string): string[] {
  return spawnSync('redis-cli', ['-s', socket, '--scan', '--pattern', PREFIX + pattern], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await until('redis-server to create its socket', () => existsSync(socket), 5000, 25);
}

async function stopRedis(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const p = redis;
  redis = undefined;
  if (!p || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  await exited;
  rmSync(socket, { force: true });
}

async function desk(options: { policy?: 'local' | 'fail' } = {}): Promise<{ v: Verifier; store: RedisSharedStore }> {
  const store = new RedisSharedStore({ url: socket, prefix: PREFIX });
  stores.push(store);
  await store.waitReady();
  // Each desk has its own trust store and local state; only Redis is shared.
  const v = await makeVerifier({ shared: store, sharedDownPolicy: options.policy }, await makeStore());
  return { v, store };
}

describe.skipIf(!hasRedis)('QR shared store on a real redis-server', () => {
  beforeAll(startRedis);
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await stopRedis();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a dynamic code used at desk A is REPLAYED at desk B (a screenshot walked to another desk)', async () => {
    const a = await desk();
    const b = await desk();
    const t = code({ cardId: cardId(1) });
    expect((await a.v.verify(t, { terminal: 'A' })).code).toBe('VALID');
    const atB = await b.v.verify(t, { terminal: 'B' });
    expect([atB.code, atB.warnings]).toEqual(['REPLAYED', []]);
    // Static codes are not single-use.
    const s = code({ type: 'static', ttl: DAY, cardId: cardId(2) });
    expect((await a.v.verify(s)).code).toBe('VALID');
    expect((await b.v.verify(s)).code).toBe('VALID');
  });

  it('concurrent first uses at two desks: exactly one VALID', async () => {
    const a = await desk();
    const b = await desk();
    for (let i = 0; i < 10; i++) {
      const t = code({ cardId: cardId(100 + i) });
      const results = await Promise.all([a.v.verify(t), b.v.verify(t), a.v.verify(t), b.v.verify(t)]);
      expect(results.filter((r) => r.code === 'VALID')).toHaveLength(1);
      expect(results.filter((r) => r.code === 'REPLAYED')).toHaveLength(3);
    }
  });

  it('verdicts are shared: desk B skips the SM2 verification of a code desk A verified', async () => {
    const a = await desk();
    const b = await desk();
    const s = code({ type: 'static', ttl: DAY, cardId: cardId(3) });
    expect((await a.v.verify(s)).cached).toBe(false);
    // The verdict is stored asynchronously: B may look once it is in Redis (v:<bundle seq>:<SM3 of the text>).
    await until("A's verdict in Redis", () => redisKeys(`v:*:${hex(sm3(new TextEncoder().encode(s)))}`).length === 1);
    const atB = await b.v.verify(s);
    expect([atB.code, atB.cached]).toEqual(['VALID', true]);
  });

  it('outage: local checks with a warning (policy local), REPLAY_STORE_UNAVAILABLE (policy fail); claims sync back after recovery', async () => {
    const a = await desk();
    const b = await desk();
    const strict = await desk({ policy: 'fail' });
    await stopRedis('SIGKILL');
    await until('both stores noticing the outage', () => !a.store.healthy && !b.store.healthy, 8000, 25);

    const jti = randomBytes(8);
    const t = code({ cardId: cardId(200), jti });
    const r = await a.v.verify(t, { terminal: 'A' });
    expect([r.code, r.warnings]).toEqual(['VALID', ['SHARED_STORE_DOWN']]);
    expect((await a.v.verify(t, { terminal: 'A2' })).code).toBe('REPLAYED'); // same desk: still caught
    expect((await strict.v.verify(code({ cardId: cardId(201) }))).code).toBe('REPLAY_STORE_UNAVAILABLE');
    expect((await strict.v.verify(code({ type: 'static', ttl: DAY, cardId: cardId(202) }))).code).toBe('VALID');

    await startRedis();
    await until('both stores reconnected', () => a.store.healthy && b.store.healthy, 15_000, 25);
    // Desk A's next shared operation notices the recovery and pushes its outage-time claims.
    expect((await a.v.verify(code({ cardId: cardId(203) }))).code).toBe('VALID');
    // The claim A made during the outage reaches Redis (rp:<kid><jti>); only then can B see it.
    await until("A's outage-time claim in Redis", () => redisKeys(`rp:${hex(keyIdOf(keys.active.publicKey.toBytes()))}${hex(jti)}`).length === 1);
    const atB = await b.v.verify(t, { terminal: 'B' });
    expect([atB.code, atB.warnings]).toEqual(['REPLAYED', []]);
  }, 60_000);
});

