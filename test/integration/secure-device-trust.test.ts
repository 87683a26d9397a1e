// Attacks on the reader's secure channel (issue 15 points 5 and 6 of the list of holes):
// - `yikad --sim --serial PTY --secure required` must not trust the TEST-ONLY CA for the serial
//   device: --sim is the in-process simulated reader only. The device is refused with a typed reason.
// - --trust-test-ca trusts it for a pseudo-terminal only, never for a real device node.
// - A downgrade to plaintext under 'preferred' is loud: warn log, degraded reader health with the
//   reason (GET /v1/health, reader.health event); 'required' failures say what failed.
// Real parts: yikad and yika-sim as their own processes over a socat PTY pair; fetch as the client.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { SerialBackend } from '../../daemon/devices/serial-backend.ts';
import type { DeliveredEvent } from '../../daemon/events/event-types.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { ReaderRegistry } from '../../daemon/readers/reader-registry.ts';
import { EventBus } from '../../daemon/events/event-bus.ts';
import { createSimulator } from '../../firmware-sim/index.ts';
import { Sm2PrivateKey } from '../../crypto/sm2-keys.ts';
import { testTrustedCa } from '../../protocol/secure/test-ca.ts';
import { socatAvailable, startSocatPair, type SocatPair } from '../support/socat.ts';
import { until } from '../support/until.ts';
import { startYikad, type YikadProcess } from '../support/yikad-process.ts';
import { startSimProcess, type SimProcess } from './sim-process.ts';

const haveSocat = socatAvailable();
if (!haveSocat) console.warn('SKIPPED secure-device-trust PTY tests: socat is not installed (apt-get install socat)');

interface Health {
  status: string;
  degraded: Array<{ component: string; reason: string }>;
}
interface ReaderJson {
  id: string;
  health: string;
  healthDetail?: string;
  secureChannel: { policy: string; state: string; reason?: string };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function simOnPty(simArgs: string[]): Promise<{ pair: SocatPair; sim: SimProcess }> {
  const pair = await startSocatPair();
  cleanups.push(() => pair.close());
  const sim = await startSimProcess(['--pty', pair.a, '--seed', '7', '--no-stdin', ...simArgs]);
  cleanups.push(() => sim.stop());
  return { pair, sim };
}

function daemon(args: string[]): YikadProcess {
  const d = startYikad(['--listen', '127.0.0.1:0', '--no-pcsc', '--no-serial-discovery', '--log-level', 'info', ...args]);
  cleanups.push(() => d.stop());
  return d;
}

const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;

describe.skipIf(!haveSocat)('the TEST-ONLY CA is never trusted for a serial device because of --sim', () => {
  it('yikad --sim --serial PTY --secure required: a test-identity device is refused (SECURE_CHANNEL_NO_TRUST), the simulated reader is secured', async () => {
    const { pair } = await simOnPty(['--secure', 'supported']);
    const d = daemon(['--sim', '--serial', pair.b, '--secure', 'required']);
    const url = await d.ready;
    const health = await until('the serial refusal in /v1/health', async () => {
      const h = await getJson<Health>(`${url}/v1/health`);
      return h.degraded.find((x) => x.component === 'devices.serial' && /SECURE_CHANNEL_NO_TRUST/.test(x.reason)) ? h : undefined;
    }, 30_000, 100);
    const serial = health.degraded.find((x) => x.component === 'devices.serial')!;
    expect(serial.reason).toContain('no trusted vendor CA');
    expect(serial.reason).not.toMatch(/check the cable/);
    const { readers } = await getJson<{ readers: ReaderJson[] }>(`${url}/v1/readers`);
    expect(readers.map((r) => r.id)).toEqual(['sim-1']);
    expect(readers[0]).toMatchObject({ health: 'ok', secureChannel: { policy: 'required', state: 'open' } });
    expect(d.logLines().some((l) => l.level === 40 && l.msg === 'serial reader refused: secure channel' && l.code === 'SECURE_CHANNEL_NO_TRUST')).toBe(true);
  }, 60_000);

  it("yikad --sim --serial PTY (policy 'preferred'): the test-identity device is not secured by the test CA: plaintext, degraded, warned", async () => {
    const { pair } = await simOnPty(['--secure', 'supported']);
    const d = daemon(['--sim', '--serial', pair.b]);
    const url = await d.ready;
    const reader = await until('serial-1 listed', async () => (await getJson<{ readers: ReaderJson[] }>(`${url}/v1/readers`)).readers.find((r) => r.id === 'serial-1'), 30_000, 100);
    expect(reader).toMatchObject({ health: 'degraded', secureChannel: { policy: 'preferred', state: 'plain' } });
    expect(reader.secureChannel.reason).toContain('no trusted vendor CA');
    expect(reader.healthDetail).toMatch(/^plaintext link: no trusted vendor CA/);
    const h = await getJson<Health>(`${url}/v1/health`);
    expect(h.status).toBe('degraded');
    expect(h.degraded.find((x) => x.component === 'reader.serial-1')?.reason).toMatch(/plaintext link/);
    expect(d.logLines().some((l) => l.level === 40 && l.msg === 'reader runs without the secure channel (downgrade)' && l.readerId === 'serial-1')).toBe(true);
  }, 60_000);

  it('--trust-test-ca: the documented test route secures a simulator on a pseudo-terminal (state open, health ok)', async () => {
    const { pair } = await simOnPty(['--secure', 'required']);
    const d = daemon(['--serial', pair.b, '--trust-test-ca', '--secure', 'required']);
    const url = await d.ready;
    const reader = await until('serial-1 listed', async () => (await getJson<{ readers: ReaderJson[] }>(`${url}/v1/readers`)).readers.find((r) => r.id === 'serial-1'), 30_000, 100);
    expect(reader).toMatchObject({ health: 'ok', secureChannel: { policy: 'required', state: 'open' } });
    expect(d.logLines().some((l) => l.level === 40 && /TEST ONLY/.test(String(l.msg)))).toBe(true);
  }, 60_000);
});

describe.skipIf(!haveSocat)('a downgrade is loud, a refusal says what failed', () => {
  it("a device without the secure channel under 'preferred': warn log, degraded health with the reason, reader.health event", async () => {
    const { pair } = await simOnPty([]);
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) });
    const config = loadConfig(parseDaemonFlags(['--listen', '127.0.0.1:0', '--serial', pair.b, '--no-pcsc', '--no-serial-discovery']), {});
    const app: YikaApp = await createApp({ config, logger });
    cleanups.push(() => app.close());
    const events: DeliveredEvent[] = [];
    app.events.subscribe((e) => events.push(e));
    await app.startDevices();
    const url = await app.listen();
    const health = await until('reader.health degraded', () => events.find((e) => e.type === 'reader.health' && e.readerId === 'serial-1'), 30_000);
    expect(health).toMatchObject({ health: 'degraded', detail: expect.stringContaining('the device does not support the secure channel') });
    const { readers } = await getJson<{ readers: ReaderJson[] }>(`${url}/v1/readers`);
    expect(readers[0]).toMatchObject({ id: 'serial-1', health: 'degraded', secureChannel: { policy: 'preferred', state: 'unsupported', reason: 'the device does not support the secure channel' } });
    const h = await getJson<Health>(`${url}/v1/health`);
    expect(h.degraded).toContainEqual({ component: 'reader.serial-1', reason: expect.stringContaining('plaintext link'), reasonZh: expect.stringMatching(/读卡器 .* 降级/) });
    const warn = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'reader runs without the secure channel (downgrade)');
    expect(warn).toMatchObject({ level: 40, readerId: 'serial-1' });
    // The card still reads: degraded is a warning, not a refusal.
    expect((await fetch(`${url}/v1/readers/serial-1/healthcard/items?ids=1`)).status).toBe(200);
  }, 60_000);

  it("'required' against a device without the secure channel: SECURE_CHANNEL_UNSUPPORTED, and the fix says so (not 'check the cable')", async () => {
    const { pair } = await simOnPty([]);
    const d = daemon(['--serial', pair.b, '--secure', 'required']);
    const url = await d.ready;
    const serial = await until('the refusal', async () => (await getJson<Health>(`${url}/v1/health`)).degraded.find((x) => x.component === 'devices.serial' && /SECURE_CHANNEL_UNSUPPORTED/.test(x.reason)), 30_000, 100);
    expect(serial.reason).toContain('does not support the secure channel');
    expect(serial.reason).not.toMatch(/check the cable/);
    expect((await getJson<{ readers: ReaderJson[] }>(`${url}/v1/readers`)).readers).toEqual([]);
  }, 60_000);
});

describe('--trust-test-ca never applies to a real device node', () => {
  it('a port that is not a pseudo-terminal gets the vendor trust only: a test-identity device is refused under required', async () => {
    const sim = createSimulator({ seed: 3, secure: 'supported' });
    cleanups.push(async () => sim.close());
    const registry = new ReaderRegistry({ events: new EventBus(), lockTimeoutMs: 1000 });
    const hostKey = Sm2PrivateKey.generate();
    const warnings: Array<Record<string, unknown>> = [];
    const backend = new SerialBackend({
      ports: [{ path: '/dev/ttyUSB7', baudRate: 115200, secure: 'required' }],
      discovery: false,
      secure: 'required',
      testCaTrust: { hostKey, trustedCas: [testTrustedCa()] },
      openLink: async () => sim.connectInProcess(),
      log: { info: () => {}, warn: (o) => warnings.push(o as Record<string, unknown>) },
    });
    cleanups.push(() => backend.stop());
    await backend.start(registry);
    await until('refused', () => backend.portStates().find((p) => /SECURE_CHANNEL_NO_TRUST/.test(p.detail ?? '')));
    expect(registry.list()).toEqual([]);
    expect(warnings).toContainEqual({ path: '/dev/ttyUSB7' });
    // The same device on a port the seam calls a pseudo-terminal is secured (the seam is the only difference).
    const pty = new SerialBackend({
      ports: [{ path: '/dev/pts/fake', baudRate: 115200, secure: 'required' }],
      discovery: false,
      secure: 'required',
      testCaTrust: { hostKey, trustedCas: [testTrustedCa()] },
      isPseudoTerminal: () => true,
      openLink: async () => sim.connectInProcess(),
    });
    cleanups.push(() => pty.stop());
    await pty.start(registry);
    const r = await until('attached', () => registry.list()[0]);
    expect(r.toJSON().secureChannel).toEqual({ policy: 'required', state: 'open' });
  }, 30_000);
});
