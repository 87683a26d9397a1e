// The `yika/client` entry (daemon/client/index.ts) is for HIS developers: importing it must not load
// any server code. A child process imports it with a module tracer and the test reads what was loaded.
// (scripts/smoke-pack.sh checks the same for the compiled entry of the installed package.)
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'yika-client-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function loadedBy(script: string): Promise<string[]> {
  const out = join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--import', './test/support/trace-modules.mjs', '--input-type=module', '-e', script],
      { cwd: ROOT, env: { ...process.env, YIKA_TRACE_MODULES: out }, timeout: 60_000 },
      (err, _stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(readFileSync(out, 'utf8').split('\n').filter(Boolean))),
    );
  });
}

const SERVER_PACKAGES = /node_modules\/(fastify|@fastify\/[^/]+|serialport|@serialport\/[^/]+|ioredis|pcsclite|pino|msgpackr|yaml)\//;

describe('yika/client entry', () => {
  it('loads the client and none of fastify, serialport, ioredis, pcsclite, pino', async () => {
    const loaded = await loadedBy("const m = await import('./daemon/client/index.ts'); if (typeof m.YikaClient !== 'function') process.exit(3);");
    expect(loaded.some((l) => l.endsWith('daemon/client/yika-client.ts'))).toBe(true);
    expect(loaded.filter((l) => SERVER_PACKAGES.test(l))).toEqual([]);
    expect(loaded.filter((l) => /\/(daemon\/(api|devices|readers|services)|firmware-sim|protocol)\//.test(l))).toEqual([]);
  }, 60_000);

  it('the tracer sees a server package when one is loaded (the check above can fail)', async () => {
    const loaded = await loadedBy("await import('./daemon/api/server.ts');");
    expect(loaded.some((l) => /node_modules\/fastify\//.test(l))).toBe(true);
  }, 60_000);
});
