// The `yika` CLI as a user runs it (a child process, YIKA_URL pointing at a daemon with the in-process
// simulator): tables, --json, the pipe format, writes, the trace switch, exit codes for refusals,
// usage errors and an unreachable daemon. The CLI finds the daemon's token in its token file (as
// after `npm start`, which generates one), so writes and raw APDUs work without --token.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTokenFile } from '../../daemon/config/token-file.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import { until } from '../support/until.ts';

let app: YikaApp;
let sim: Simulator;
let url: string;
const tokenDir = mkdtempSync(join(tmpdir(), 'yika-cli-token-'));
const TOKEN_FILE = join(tokenDir, 'api-token');
const TOKEN = 'cli-test-token-0123456789abcdef';

function yika(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const base: NodeJS.ProcessEnv = { ...process.env, YIKA_URL: url, YIKA_TOKEN_FILE: TOKEN_FILE };
    delete base.YIKA_TOKEN;
    execFile(process.execPath, ['--import', 'tsx', 'daemon/cli/yika.ts', ...args], { env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  sim = createSimulator({ seed: 9 });
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), {});
  config.api.token = TOKEN;
  writeTokenFile(TOKEN_FILE, TOKEN);
  app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  url = await app.listen();
  // The card and the SAM are known once the reader's first slot status arrived (slow on a loaded machine).
  await until('card and SAM present', () => {
    const slots = app.registry.find('sim-1')?.toJSON().slots ?? [];
    return slots.some((x) => x.slot === 1 && x.card !== 'absent') && slots.some((x) => x.kind === 'sam' && x.card !== 'absent');
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await sim?.close();
  rmSync(tokenDir, { recursive: true, force: true });
});

// Each test spawns several CLI processes through tsx: generous on a busy CI machine.
describe('yika CLI against a running daemon', { timeout: 120_000 }, () => {
  it('lists readers as a table and as JSON', async () => {
    const table = await yika(['readers']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+KIND\s+HEALTH/m);
    expect(table.stdout).toMatch(/sim-1\s+Yika SIM-1\s+sim\s+ok/);
    const json = await yika(['readers', '--json']);
    expect(JSON.parse(json.stdout).readers[0].id).toBe('sim-1');
  });

  it('reads the card and items (table, pipe, JSON), writes an item', async () => {
    const read = await yika(['read', '--files', 'EF05,EF06']);
    expect(read.code).toBe(0);
    expect(read.stdout).toContain('DDF1/EF06');
    expect(read.stdout).toContain(sim.profile.items[11] as string);
    const pipe = await yika(['items', '1,3,8', '--pipe']);
    expect(pipe.stdout.trim()).toBe([1, 3, 8].map((n) => sim.profile.items[n] ?? '').join('|'));
    const json = await yika(['items', '11', '--json']);
    expect(JSON.parse(json.stdout).items[0]).toMatchObject({ itemNo: 11, field: 'name', value: sim.profile.items[11] });
    const write = await yika(['write', '17=13700000000']);
    expect(write.code, write.stderr).toBe(0);
    expect((await yika(['items', '17', '--pipe'])).stdout.trim()).toBe('13700000000');
  });

  it('sends raw APDUs and switches the trace', async () => {
    const apdu = await yika(['apdu', '--power', '00A404000C57532E5359532E4444463031']);
    expect(apdu.code, apdu.stderr).toBe(0);
    expect(apdu.stdout).toMatch(/9000/);
    expect((await yika(['trace', 'on'])).stdout).toMatch(/trace of sim-1: on/);
    await yika(['items', '1']);
    const trace = await yika(['trace']);
    expect(trace.stdout).toMatch(/^\[01\] A>> 00 A4/m);
    expect((await yika(['trace', 'off'])).stdout).toMatch(/off/);
  });

  it('without the token (no file, none given) reads still work, writes and raw APDUs are refused with TOKEN_REQUIRED', async () => {
    const none = { YIKA_TOKEN_FILE: join(tokenDir, 'absent') };
    expect((await yika(['items', '17', '--pipe'], none)).code).toBe(0);
    const write = await yika(['write', '17=13700000001'], none);
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/TOKEN_REQUIRED/);
    const apdu = await yika(['apdu', '00A4000C023F00'], none);
    expect(apdu.code).toBe(1);
    expect(apdu.stderr).toMatch(/TOKEN_REQUIRED/);
    // --token and YIKA_TOKEN still work, the wrong one is refused.
    expect((await yika(['write', '17=13700000002', '--token', TOKEN], none)).code).toBe(0);
    const wrong = await yika(['write', '17=13700000003'], { ...none, YIKA_TOKEN: 'x'.repeat(20) });
    expect(wrong.stderr).toMatch(/TOKEN_INVALID/);
    expect((await yika(['items', '17', '--pipe'])).stdout.trim()).toBe('13700000002');
  }, 180_000); // seven CLI processes: slow on a loaded machine

  it('exits 1 with the error code when the daemon refuses, 2 on usage errors, 3 when unreachable', async () => {
    const refused = await yika(['items', '999']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/UNKNOWN_ITEM/);
    const usage = await yika(['items', 'abc']);
    expect(usage.code).toBe(2);
    const unknown = await yika(['bogus']);
    expect(unknown.code).toBe(2);
    const down = await yika(['readers'], { YIKA_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/DAEMON_UNREACHABLE/);
  });

  it('doctor reports the daemon, PC/SC and serial checks with fixes', async () => {
    const doctor = await yika(['doctor', '--json']);
    const checks = JSON.parse(doctor.stdout).checks as Array<{ check: string; status: string; fix?: string }>;
    expect(checks.find((c) => c.check === 'daemon')?.status).toBe('ok');
    expect(checks.map((c) => c.check)).toEqual(expect.arrayContaining(['PC/SC addon', 'USB serial ports', 'udevadm', 'udev rule']));
    for (const c of checks) if (c.status !== 'ok') expect(c.fix ?? c.check.startsWith('qr')).toBeTruthy();
  });
});
