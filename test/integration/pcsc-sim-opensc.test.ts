// yika-sim --vpcd: the simulated health card as a PC/SC card, seen by standard tools through a real
// pcscd with vsmartcard's vpcd driver: opensc-tool sends APDUs, scriptor runs a small script.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pcscUnavailableReason, startPcscd, type PcscdHandle } from '../support/pcscd.ts';
import { until } from '../support/until.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const reason = pcscUnavailableReason() ?? (!has('opensc-tool') ? 'opensc-tool is not installed (apt-get install opensc)' : !has('scriptor') ? 'scriptor is not installed (apt-get install pcsc-tools)' : undefined);
if (reason) console.warn(`SKIPPED pcsc-sim-opensc tests: ${reason}`);

const READER = 'Virtual PCD 00 00';

function run(cmd: string, args: string[], input?: string, timeoutMs = 30_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    child.stdin?.on('error', () => undefined);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
    child.stdin?.end(input);
  });
}

describe.skipIf(!!reason)('yika-sim --vpcd through pcscd (opensc-tool, scriptor)', () => {
  let pcscd: PcscdHandle;
  let sim: ChildProcess | undefined;
  let simOut = '';

  beforeAll(async () => {
    pcscd = await startPcscd({ quickack: true });
    // The simulator must reach vpcd's loopback port: run it next to pcscd (same network namespace).
    sim = pcscd.spawnNear(process.execPath, ['--import', 'tsx', `${ROOT}firmware-sim/cli.ts`, '--vpcd', '35963', '--vpcd-sam', '35964', '--seed', '8', '--no-stdin']);
    sim.stdout?.on('data', (d) => (simOut += d));
    sim.stderr?.on('data', (d) => (simOut += d));
    await until('the simulated card in pcscd', async () => (await run('opensc-tool', ['-r', READER, '-a'])).out.includes('3b:9c:96:80:01'), 20_000, 200);
  }, 180_000);

  afterAll(async () => {
    if (sim && sim.exitCode === null) {
      const exited = new Promise((r) => sim!.once('exit', r));
      sim.kill('SIGTERM');
      const t = setTimeout(() => sim!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await pcscd?.release();
  });

  it('opensc-tool reads the ATR and sends SELECT DDF1 / an unknown INS', async () => {
    const atr = await run('opensc-tool', ['-r', READER, '-a']);
    expect(atr.out).toMatch(/3b:9c:96:80:01(:[0-9a-f]{2}){8}:57:53:31:30/);
    const sel = await run('opensc-tool', ['-r', READER, '-c', 'default', '-s', '00A4000002DDF1', '-s', '00A4000002EF05', '-s', '00B2010400']);
    expect(sel.code, sel.out + simOut).toBe(0);
    // Both SELECTs succeed; READ RECORD 1 of EF05 returns the first TLV (tag 01, card type, length 1).
    const out = sel.out.toUpperCase();
    expect(out.match(/RECEIVED \(SW1=0X90, SW2=0X00\)/g)?.length).toBe(3);
    expect(out).toMatch(/SENDING: 00 B2 01 04 00\s*\nRECEIVED \(SW1=0X90, SW2=0X00\):\s*\n01 01 /);
    const unknown = await run('opensc-tool', ['-r', READER, '-c', 'default', '-s', '00EE000000']);
    expect(unknown.out.toUpperCase()).toMatch(/SW1=0X6D, SW2=0X00/);
  });

  it('the SAM appears on the second vpcd reader: VERIFY with the test PIN, a wrong PIN counts down', async () => {
    await until('the SAM in pcscd', async () => (await run('opensc-tool', ['-r', 'Virtual PCD 00 01', '-a'])).out.includes('59:49:4b:41:53:41:4d:31'), 20_000, 200);
    const wrong = await run('opensc-tool', ['-r', 'Virtual PCD 00 01', '-c', 'default', '-s', '0020000003999999']);
    expect(wrong.out.toUpperCase()).toMatch(/SW1=0X63, SW2=0XC2/);
    const right = await run('opensc-tool', ['-r', 'Virtual PCD 00 01', '-c', 'default', '-s', '0020000003123456']);
    expect(right.out.toUpperCase()).toMatch(/SW1=0X90, SW2=0X00/);
  });

  it('scriptor runs a script: SELECT DDF1, SELECT EF05, READ RECORD 1', async () => {
    const r = await run('scriptor', ['-r', READER], 'reset\n00 A4 00 00 02 DD F1\n00 A4 00 00 02 EF 05\n00 B2 01 04 00\nexit\n');
    // The card runs T=1 under PC/SC: the FCI comes back at once, the record without a 6Cxx round trip.
    expect(r.out, r.out + simOut).toMatch(/> 00 A4 00 00 02 DD F1\s*\n< 6F 10 84 0C 57 53 2E 53 59 53 2E 44 44 46 30 31\s+A5 00 90 00/);
    expect(r.out).toMatch(/> 00 A4 00 00 02 EF 05\s*\n< 90 00/);
    expect(r.out).toMatch(/> 00 B2 01 04 00\s*\n< 01 01 [0-9A-F]{2} 90 00/);
  });
});
