// The real target of the conformance suite: `yika-sim --pty` in its own process on one end of a socat
// PTY pair, and `yika conformance --port` (the CLI, real serialport) on the other. Every check must
// pass, the secure-channel ones included (the simulator requires the channel, with its TEST-ONLY CA),
// and the loss checks (a repeated id answered once, pending notices during a long batch).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { socatAvailable, startSocatPair, type SocatPair } from '../support/socat.ts';
import { startSimProcess, type SimProcess } from '../integration/sim-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const haveSocat = socatAvailable();
if (!haveSocat) console.warn('SKIPPED test/conformance/sim-pty.test.ts: socat is not installed (apt-get install socat)');

function runCli(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'daemon/cli/yika.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`yika conformance timed out: ${stderr.slice(-1000)}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!haveSocat)('conformance suite against yika-sim over a socat PTY pair', () => {
  let pair: SocatPair | undefined;
  let sim: SimProcess | undefined;
  afterAll(async () => {
    await sim?.stop();
    await pair?.close();
  });

  it('passes every check (yika conformance --port … --test-ca --json)', async () => {
    pair = await startSocatPair();
    // Real-time card timing (--speed 1): a batch of GET CHALLENGE runs long enough for pending notices.
    sim = await startSimProcess(['--pty', pair.a, '--secure', 'required', '--no-stdin', '--seed', '5', '--speed', '1']);
    const result = await runCli(['conformance', '--port', pair.b, '--test-ca', '--json']);
    let report: { ok: boolean; failed: number; skipped: number; unexercised: string[]; results: Array<{ id: string; status: string; detail?: string }>; device: { serial: string } };
    try {
      report = JSON.parse(result.stdout);
    } catch {
      throw new Error(`no JSON report (exit ${result.code}): ${result.stderr.slice(-1500)}`);
    }
    const notPassed = report.results.filter((r) => r.status !== 'pass').map((r) => `${r.id} ${r.status}: ${r.detail}`);
    expect(notPassed).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.unexercised).toEqual([]);
    // PPS to the health card's TA1 (PROTOCOL.md 6.1): the rate the reader reports is TA1's.
    expect(report.results.find((r) => r.id === 'ops.card-rate')?.detail).toMatch(/TA1 96 → Fi 512 Di 32, 250 kbit\/s at 4 MHz$/);
    expect(report.results.length).toBeGreaterThanOrEqual(46);
    expect(report.device.serial).toBe(sim.ready.serial);
    expect(result.code).toBe(0);
  }, 180_000);
});
