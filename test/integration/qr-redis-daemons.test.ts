// Two yikad processes (two desks) sharing one real redis-server (no persistence), driven over HTTP:
// - a code used at desk A while Redis is down, A then quiet: once Redis is back, A pushes the claim by
//   itself (no traffic), and the code is REPLAYED at desk B;
// - a code used at A before Redis restarts empty: A notices the lost data (epoch) and re-pushes;
// - a code used at A before a FLUSHALL (no reconnect at all): the same, through the periodic check.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/until.ts';
import { issueDemoCode } from '../../qr/demo-trust.ts';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis) console.warn('SKIPPED: redis-server not found; the two-daemon shared-store test does not run');

const dir = mkdtempSync(join(tmpdir(), 'yika-qr-2desks-'));
const socket = join(dir, 'redis.sock');
let redis: ChildProcess | undefined;
const daemons: ChildProcess[] = [];

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await until('redis socket', async () => existsSync(socket) && cli('PING') === 'PONG', 30_000);
}

async function killRedis(): Promise<void> {
  const p = redis;
  redis = undefined;
  if (!p || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL'); // no shutdown save: it comes back empty
  await exited;
  rmSync(socket, { force: true });
}

function cli(...args: string[]): string {
  return spawnSync('redis-cli', ['-s', socket, ...args], { encoding: 'utf8' }).stdout.trim();
}
const claims = (): number => (cli('--scan', '--pattern', 'yika:qr:rp:*') || '').split('\n').filter(Boolean).length;

async function startDesk(name: string): Promise<string> {
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, `qr:\n  redisUrl: ${socket}\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'daemon/main.ts', '--sim', '--listen', '127.0.0.1:0', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, YIKA_LISTEN: '', YIKA_CONFIG: '' },
  });
  daemons.push(child);
  let out = '';
  return new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"msg":"ready: (http:\/\/[^"]+)"/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => reject(new Error(`${name} exited before ready:\n${out}`)));
  });
}

async function verify(desk: string, text: string): Promise<{ code: string; warnings: string[] }> {
  const r = await fetch(`${desk}/v1/qr/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
  return (await r.json()) as { code: string; warnings: string[] };
}
const sharedHealthy = async (desk: string): Promise<boolean> => ((await (await fetch(`${desk}/v1/qr/stats`)).json()) as { shared: { healthy: boolean } }).shared.healthy;
const fresh = () => issueDemoCode({ iat: Math.floor(Date.now() / 1000), ttl: 180 }).text;

describe.skipIf(!hasRedis)('two daemons on one real Redis', () => {
  let a: string;
  let b: string;
  beforeAll(async () => {
    await startRedis();
    [a, b] = await Promise.all([startDesk('desk-a'), startDesk('desk-b')]);
    await until('both desks connected', async () => (await sharedHealthy(a)) && (await sharedHealthy(b)), 30_000);
  }, 90_000);
  afterAll(async () => {
    for (const d of daemons) if (d.exitCode === null) d.kill('SIGKILL');
    await killRedis();
    rmSync(dir, { recursive: true, force: true });
  });

  it('outage at a quiet desk, restart without data, FLUSHALL: every code used at A is REPLAYED at B', async () => {
    // 1. Outage: A accepts a code locally, then sees no traffic.
    await killRedis();
    await until('A sees the outage', async () => !(await sharedHealthy(a)), 30_000);
    const x = fresh();
    expect(await verify(a, x)).toMatchObject({ code: 'VALID', warnings: ['SHARED_STORE_DOWN'] });
    await startRedis(); // empty
    await until('A pushes its outage claim by itself', () => claims() >= 1, 30_000);
    expect((await verify(b, x)).code).toBe('REPLAYED');

    // 2. Redis restarts without its data: A re-pushes what it holds.
    const y = fresh();
    expect((await verify(a, y)).code).toBe('VALID');
    expect(claims()).toBe(2);
    await killRedis();
    await startRedis();
    await until('A re-pushes after the restart', () => claims() >= 2, 30_000);
    expect((await verify(b, y)).code).toBe('REPLAYED');

    // 3. FLUSHALL: no reconnect at all; the epoch check notices.
    const z = fresh();
    expect((await verify(a, z)).code).toBe('VALID');
    expect(cli('FLUSHALL')).toBe('OK');
    await until('A re-pushes after FLUSHALL', () => claims() >= 3, 30_000);
    expect((await verify(b, z)).code).toBe('REPLAYED');
    expect((await verify(b, x)).code).toBe('REPLAYED');
  }, 120_000);
});
