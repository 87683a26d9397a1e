// yika doctor on a real port: a socat PTY made root-only (0600), checked as nobody (--as). Doctor must
// say nobody cannot open it, with owner, group and mode and a fix, and name socat as the process that
// holds it (found through /proc/PID/fd). The same port checked as root is fine.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socatAvailable, startSocatPair, type SocatPair } from '../support/socat.ts';

const notRoot = process.getuid?.() !== 0;
const reason = notRoot ? 'needs root: only root can make a PTY root-only and judge it as another user' : !socatAvailable() ? 'socat is not installed (apt-get install socat)' : undefined;
if (reason) console.warn(`SKIPPED doctor-pty: ${reason}`);

interface Check {
  check: string;
  status: string;
  detail: string;
  fix?: string;
}

function doctor(args: string[]): Promise<{ code: number; checks: Check[]; as: string }> {
  const home = mkdtempSync(join(tmpdir(), 'yika-doctor-'));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'daemon/cli/yika.ts', 'doctor', '--json', '--url', 'http://127.0.0.1:9', ...args],
      { env: { ...process.env, HOME: home, YIKA_URL: '', YIKA_CONFIG: '', YIKA_TOKEN_FILE: join(home, 'none') }, timeout: 90_000 },
      (err, stdout, stderr) => {
        try {
          const out = JSON.parse(stdout) as { as: string; checks: Check[] };
          resolve({ code: typeof err?.code === 'number' ? err.code : 0, ...out });
        } catch {
          reject(new Error(`doctor printed no JSON (${err?.message}):\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

describe.skipIf(!!reason)('yika doctor on a root-only PTY', () => {
  let pair: SocatPair;
  let pts: string;
  beforeAll(async () => {
    pair = await startSocatPair({ prefix: 'yika-doctor-pty-' });
    pts = realpathSync(pair.a);
    chmodSync(pts, 0o600);
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('as nobody: cannot open it, with owner, group, mode and the fix; socat named as the holder', async () => {
    const st = statSync(pts);
    expect([st.uid, st.mode & 0o777]).toEqual([0, 0o600]);
    const r = await doctor(['--as', 'nobody', '--port', pair.a]);
    expect(r.as).toBe('nobody');
    expect(r.code).toBe(1);
    const port = r.checks.find((c) => c.check === `serial ${pair.a}`);
    expect(port).toMatchObject({ status: 'fail' });
    expect(port!.detail).toMatch(new RegExp(`^crw------- root:\\w+ \\(0600\\) \\(${pts}\\): nobody cannot open it`));
    expect(port!.fix).toContain(`sudo chgrp dialout ${pts} && sudo chmod 0660 ${pts}`);
    const inUse = r.checks.find((c) => c.check === `serial ${pair.a} in use`);
    expect(inUse).toMatchObject({ status: 'fail', detail: expect.stringContaining(`socat (pid ${pair.pid})`) });
    expect(inUse!.fix).toContain(`kill ${pair.pid}`);
    expect(r.checks.find((c) => c.check === 'dialout group')).toMatchObject({ status: 'warn', fix: expect.stringContaining('usermod -aG dialout nobody') });
  }, 120_000);

  it('as root (the caller): may open it', async () => {
    const r = await doctor(['--port', pts]);
    expect(r.as).toBe('root');
    expect(r.checks.find((c) => c.check === `serial ${pts}`)).toMatchObject({ status: 'ok', detail: expect.stringContaining('root may open it') });
  }, 120_000);

  it('refuses an unknown --as user with exit code 2', async () => {
    await expect(doctor(['--as', 'no-such-user-yika'])).rejects.toThrow(/no user "no-such-user-yika"/);
  }, 60_000);
});
