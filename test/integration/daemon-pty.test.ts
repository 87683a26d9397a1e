// Daemon and simulator as two processes joined by a real serial line (a socat PTY pair, serialport on
// both ends): the daemon finds the configured port, says hello, and reads DDF1/EF05 over HTTP. When
// the line goes away the reader is reported offline with a typed error, never a hang.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { generateProfile } from '../../firmware-sim/cards/index.ts';
import { createSimulator } from '../../firmware-sim/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { socatAvailable, startSocatPair, type SocatPair } from '../support/socat.ts';
import { until } from '../support/until.ts';

const haveSocat = socatAvailable();
if (!haveSocat) console.warn('SKIPPED daemon-pty tests: socat is not installed (apt-get install socat)');

describe.skipIf(!haveSocat)('daemon ↔ yika-sim over a socat PTY pair', () => {
  let pair: SocatPair;
  let simProcess: ChildProcess;
  let app: YikaApp;
  let url: string;
  const SEED = 11;

  beforeAll(async () => {
    pair = await startSocatPair();
    simProcess = spawn(process.execPath, ['--import', 'tsx', 'firmware-sim/cli.ts', '--pty', pair.a, '--seed', String(SEED), '--no-stdin'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // This simulator has no secure channel: plaintext on purpose (--secure off), else 'preferred' would
    // report the downgrade as degraded health (test/integration/secure-downgrade.test.ts).
    const config = loadConfig(parseDaemonFlags(['--listen', '127.0.0.1:0', '--serial', pair.b, '--secure', 'off', '--no-pcsc', '--no-serial-discovery']), {});
    app = await createApp({ config, logger: createLogger({ level: 'silent' }) });
    await app.startDevices();
    url = await app.listen();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    if (simProcess && simProcess.exitCode === null) {
      const exited = new Promise((r) => simProcess.once('exit', r));
      simProcess.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (simProcess.exitCode === null) simProcess.kill('SIGKILL');
    }
    await pair?.close();
  });

  it('finds the serial reader and reads the whole card over HTTP (SAM-authorized), equal to the seed profile', async () => {
    const reader = await until('the serial reader', () => app.registry.find('serial-1'));
    await until('card present', () => reader.toJSON().slots.find((s) => s.slot === 1)?.card === 'present');
    expect(reader.toJSON()).toMatchObject({ kind: 'serial', vendor: 'Yika', health: 'ok' });
    const res = await fetch(`${url}/v1/readers/serial-1/healthcard?files=all`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { files: Record<string, { kind: string; items?: Array<{ itemNo: number; value: string | null }>; base64?: string | null }> };
    const profile = generateProfile(SEED);
    expect(Object.keys(body.files)).toHaveLength(22);
    const items: Record<number, string | null> = {};
    for (const f of Object.values(body.files)) if (f.kind === 'tlv') for (const it of f.items ?? []) items[it.itemNo] = it.value;
    for (let n = 1; n <= 57; n++) expect([n, items[n]]).toEqual([n, profile.items[n] ?? null]);
    expect(body.files['DDF1/EF07'].base64).toBe(profile.photo ?? null);
  }, 60_000);

  it('reports the reader offline with READER_OFFLINE when the serial line goes away', async () => {
    await pair.close();
    const reader = app.registry.get('serial-1');
    await until('offline', () => reader.toJSON().health === 'offline');
    const res = await fetch(`${url}/v1/readers/serial-1/healthcard`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('READER_OFFLINE');
    const health = (await (await fetch(`${url}/v1/health`)).json()) as { status: string; degraded: Array<{ component: string }> };
    expect(health.status).toBe('degraded');
    expect(health.degraded.map((d) => d.component)).toContain('reader.serial-1');
  }, 60_000);
});

describe.skipIf(!haveSocat)('serial reader unplugged and replugged (the simulator runs socat; the daemon opens the host end)', () => {
  it('goes offline when unplugged, comes back under the same id when replugged, and reads again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yika-replug-'));
    const devicePath = join(dir, 'device');
    const hostPath = join(dir, 'host');
    const sim = createSimulator({ seed: 4 });
    const app = await createApp({
      config: loadConfig(parseDaemonFlags(['--listen', '127.0.0.1:0', '--serial', hostPath, '--secure', 'off', '--no-pcsc', '--no-serial-discovery']), {}),
      logger: createLogger({ level: 'silent' }),
    });
    try {
      await sim.servePty({ path: devicePath, hostPath });
      await app.startDevices();
      const url = await app.listen();
      const reader = await until('serial reader', () => app.registry.find('serial-1'));
      await until('card present', () => reader.toJSON().slots[0]?.card === 'present');
      const read = async () => fetch(`${url}/v1/readers/serial-1/healthcard/items?ids=1,8,57&format=pipe`);
      const expected = [1, 8, 57].map((n) => sim.profile.items[n] ?? '').join('|');
      expect(await (await read()).text()).toBe(expected);

      await sim.injectFault({ fault: 'unplug' });
      await until('offline', () => reader.toJSON().health === 'offline');
      const offline = await read();
      expect(offline.status).toBe(503);

      await sim.injectFault({ fault: 'replug' });
      await until('back online', () => reader.toJSON().health === 'ok', 30_000);
      await until('card present again', () => reader.toJSON().slots[0]?.card === 'present');
      expect(app.registry.list().map((r) => r.id)).toEqual(['serial-1']);
      expect(await (await read()).text()).toBe(expected);
    } finally {
      await app.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
