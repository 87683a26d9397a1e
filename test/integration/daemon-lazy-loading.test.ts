// yikad loads only what its configuration uses (the start-up footprint in BENCHMARKS.md depends on
// it): without --sim no simulator, without a Redis URL no ioredis, with PC/SC off no pcsclite, without
// serial ports or discovery no serialport, without a config file no yaml, without a QR trust anchor no
// QR verifier, and the docs page only on
// the first GET /v1/docs. The daemon runs as a child process with a module tracer.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'yika-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the daemon traced, runs `whileUp(url, loadedSoFar)`, stops it; returns every loaded module. */
async function traced(args: string[], whileUp: (url: string, loadedSoFar: () => string[]) => Promise<void> = async () => {}): Promise<string[]> {
  const out = join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  const read = () => {
    try {
      return readFileSync(out, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/support/trace-modules.mjs', 'daemon/main.ts', ...args, '--listen', '127.0.0.1:0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, YIKA_TRACE_MODULES: out, YIKA_LISTEN: '', YIKA_CONFIG: '', YIKA_LOG_FORMAT: 'json' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /"msg":"ready: (http:\/\/[^"]+)"/.exec(buf);
        if (m) resolve(m[1]);
      });
      child.once('exit', () => reject(new Error(`yikad exited before ready: ${buf.slice(-500)}`)));
    });
    await whileUp(url, read);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return read();
}

const has = (loaded: string[], re: RegExp) => loaded.some((l) => re.test(l));

describe('yikad loads what its configuration uses', () => {
  it('no --sim, PC/SC off, no serial, no file: no simulator, ioredis, pcsclite, serialport, yaml; docs page on first request', async () => {
    let beforeDocs: string[] = [];
    const loaded = await traced(['--no-pcsc', '--no-serial-discovery'], async (url, soFar) => {
      beforeDocs = soFar();
      const page = await fetch(`${url}/v1/docs`);
      expect(page.status).toBe(200);
    });
    expect(has(beforeDocs, /daemon\/app\.ts$/)).toBe(true); // the tracer works
    expect(has(loaded, /\/firmware-sim\//)).toBe(false);
    expect(has(loaded, /node_modules\/ioredis\//)).toBe(false);
    expect(has(loaded, /node_modules\/pcsclite\//)).toBe(false);
    expect(has(loaded, /node_modules\/(serialport|@serialport\/[^/]+)\//)).toBe(false);
    expect(has(loaded, /node_modules\/yaml\//)).toBe(false);
    expect(has(loaded, /daemon\/services\/qr-service\.ts$/)).toBe(false); // no trust anchor: no QR verifier
    expect(has(beforeDocs, /daemon\/api\/docs-page\.ts$/)).toBe(false);
    expect(has(loaded, /daemon\/api\/docs-page\.ts$/)).toBe(true);
  }, 90_000);

  it('--sim loads the simulator, and still neither ioredis nor yaml', async () => {
    const loaded = await traced(['--sim']);
    expect(has(loaded, /\/firmware-sim\/index\.ts$/)).toBe(true);
    expect(has(loaded, /daemon\/services\/qr-service\.ts$/)).toBe(true); // the demo trust anchor
    expect(has(loaded, /node_modules\/ioredis\//)).toBe(false);
    expect(has(loaded, /node_modules\/yaml\//)).toBe(false);
  }, 90_000);
});
