// Redis down during QR verification: two desks (verifiers with their own local state) share a real
// redis-server on a unix socket, which is killed (SIGKILL) and restarted in the middle of a stream of
// verifications. A repeat of the same text at the same desk within the bounce window is one scan
// (result.bounce), not a second use. Every answer is a result code (never a throw); no dynamic code is VALID twice at the
// same desk, nor at two desks while Redis is up (a wrong result otherwise); after the restart the
// stores come back by themselves. Skipped loudly when redis-server is missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisSharedStore } from '../../../qr/stores/redis-shared-store.ts';
import { cardId, code, makeStore, makeVerifier } from '../../unit/qr/qr-test-trust.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';
import { rng } from '../kit/rng.ts';
import { until } from '../../support/until.ts';

export const HAS_REDIS = spawnSync('redis-server', ['--version']).status === 0;

export async function redisOutage(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Faults', 'Redis down during QR verification (two desks, real redis-server)', o.seed);
  if (!HAS_REDIS) {
    console.warn('SKIPPED: redis-server not found; the Redis outage block does not run');
    t.note('SKIPPED: redis-server not found');
    return t.done();
  }
  const r = rng(o.seed);
  const dir = mkdtempSync(join(tmpdir(), 'yika-rel-redis-'));
  const socket = join(dir, 'redis.sock');
  let redis: ChildProcess | undefined;
  const start = async () => {
    redis = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    await until('redis-server to create its socket', () => existsSync(socket), 5000, 25);
  };
  const kill = async () => {
    const p = redis;
    redis = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGKILL');
    await exited;
    rmSync(socket, { force: true });
  };
  const stores: RedisSharedStore[] = [];
  try {
    await start();
    const desk = async () => {
      const store = new RedisSharedStore({ url: socket, prefix: `yika-rel:${process.pid}:${o.seed}:` });
      stores.push(store);
      await store.waitReady();
      return { store, v: await makeVerifier({ shared: store }, await makeStore()) };
    };
    const desks = [await desk(), await desk()];
    const rounds = scaled(o, 6, 2);
    let card = o.seed * 10_000;
    for (let round = 0; round < rounds; round++) {
      const validAt = new Map<string, number>(); // code → desks that said VALID
      const phase = async (label: string, redisUp: boolean, n: number) => {
        const texts = Array.from({ length: Math.max(2, n >> 2) }, () => code({ cardId: cardId(card++) }));
        for (let i = 0; i < n; i++) {
          const text = r.pick(texts);
          const d = r.int(2);
          let res;
          try {
            res = await desks[d].v.verify(text, { terminal: r.int(4) ? `desk-${d}/scanner-${i}` : `desk-${d}` });
          } catch (e) {
            t.crash(`${label}: verify threw ${(e as Error).message}`);
            continue;
          }
          if (res.code === 'VALID' && res.bounce) t.count(`${label}: VALID again as a scanner bounce (same desk, < 3 s)`);
          else if (res.code === 'VALID') {
            const key = `${text}`;
            const seen = validAt.get(key) ?? 0;
            const bit = 1 << d;
            if (seen & bit) t.wrong(`${label}: a dynamic code was VALID twice at desk ${d}`);
            else if (seen && redisUp) t.wrong(`${label}: a dynamic code was VALID at both desks while Redis was up`);
            else t.count(`${label}: VALID${res.warnings?.length ? ` (${res.warnings.join(',')})` : ''}`);
            validAt.set(key, seen | bit);
          } else t.count(`${label}: ${res.code}`);
        }
      };
      const n = scaled(o, 200, 20);
      await phase('Redis up', true, n);
      await kill();
      // Only lets the stores notice the outage before the next phase: the phase itself checks the verdicts.
      await until('the stores noticing the outage', () => desks.every((d) => !d.store.healthy), 8000, 25).catch(() => undefined);
      await phase('Redis down', false, n);
      await start();
      const reconnected = await until('the stores reconnecting', () => desks.every((d) => d.store.healthy), 15_000, 25).then(() => true, () => false);
      if (!reconnected) t.crash(`round ${round}: the stores did not reconnect within 15 s`);
      else t.count('stores reconnected by themselves');
      // Claims made during the outage are pushed on the next shared operation; then a fresh stream.
      validAt.clear();
      await phase('Redis back', true, n);
    }
  } finally {
    await Promise.all(stores.map((s) => s.close().catch(() => {})));
    await kill();
    rmSync(dir, { recursive: true, force: true });
  }
  return t.done();
}
