// yika doctor lists the readers the real pcscd sees (vsmartcard's two virtual readers), through the
// pcsclite addon, and says the socket is open to every user.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pcscUnavailableReason, startPcscd, type PcscdHandle } from '../support/pcscd.ts';

const reason = pcscUnavailableReason();
if (reason) console.warn(`SKIPPED pcsc-doctor: ${reason}`);

describe.skipIf(!!reason)('yika doctor with pcscd', () => {
  let pcscd: PcscdHandle;
  beforeAll(async () => {
    pcscd = await startPcscd();
  }, 320_000);
  afterAll(async () => {
    await pcscd?.release();
  });

  it('lists the PC/SC readers and checks the socket and the CCID driver', async () => {
    const home = mkdtempSync(join(tmpdir(), 'yika-doctor-'));
    const stdout = await new Promise<string>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'daemon/cli/yika.ts', 'doctor', '--json', '--url', 'http://127.0.0.1:9'], { env: { ...process.env, HOME: home, YIKA_URL: '', YIKA_CONFIG: '' }, timeout: 90_000 }, (_e, out) => resolve(out));
    });
    const checks = (JSON.parse(stdout) as { checks: Array<{ check: string; status: string; detail: string }> }).checks;
    expect(checks.find((c) => c.check === 'PC/SC readers')).toMatchObject({ status: 'ok', detail: expect.stringContaining('Virtual PCD 00 00') });
    expect(checks.find((c) => c.check === 'pcscd')).toMatchObject({ status: 'ok', detail: expect.stringContaining('running; socket srw-rw-rw-') });
    expect(checks.find((c) => c.check === 'CCID driver')?.status).toBe('ok');
  }, 120_000);
});
