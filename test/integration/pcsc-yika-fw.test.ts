// The PC/SC bridge end to end: the simulator's health card (slot 0x01) and SAM on vpcd's two readers →
// pcscd → firmware/build/yika-fw --pcsc (the C reader core, Linux port) → a socat PTY → the daemon's
// serial backend (yikad --serial, secure channel required, TEST-ONLY CA trusted for PTYs) → HTTP. The
// whole health-card read must equal the one the daemon makes through the in-process simulator with
// the same seed, file for file, and a card pulled from the PC/SC reader must reach the daemon as an event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { createSimulator, type Simulator, type VpcdClient } from '../../firmware-sim/index.ts';
import { firmwareToolchainMissing, makeFirmware, startYikaFw, type FirmwareProcess } from '../support/firmware.ts';
import { pcscUnavailableReason, startPcscd, type PcscdHandle } from '../support/pcscd.ts';
import { socatAvailable, startSocatPair, type SocatPair } from '../support/socat.ts';
import { until } from '../support/until.ts';

const reason = pcscUnavailableReason() ?? firmwareToolchainMissing() ?? (socatAvailable() ? undefined : 'socat is not installed');
if (reason) console.warn(`SKIPPED test/integration/pcsc-yika-fw.test.ts: ${reason}`);

const SEED = 5;
type Read = { files: Record<string, unknown> };

async function readCard(url: string, reader: string): Promise<Read> {
  const res = await fetch(`${url}/v1/readers/${reader}/healthcard?files=all`);
  const body = (await res.json()) as Read;
  expect(res.status, JSON.stringify(body).slice(0, 400)).toBe(200);
  return body;
}

describe.skipIf(!!reason)('health card on vpcd → pcscd → yika-fw (C core) → PTY → yikad --serial', () => {
  let pcscd: PcscdHandle | undefined;
  let sim: Simulator | undefined;
  let clients: VpcdClient[] = [];
  let pair: SocatPair | undefined;
  let fw: FirmwareProcess | undefined;
  let app: YikaApp | undefined;
  let reference: YikaApp | undefined;
  let url = '';

  beforeAll(async () => {
    makeFirmware('build/yika-fw');
    pcscd = await startPcscd({ quickack: true, cardsInProcess: true });
    sim = createSimulator({ seed: SEED });
    clients = [sim.serveVpcd({ ...(await pcscd.vpcdAddress(35963)), slot: 0x01 }), sim.serveVpcd({ ...(await pcscd.vpcdAddress(35964)), slot: 0x11 })];
    pair = await startSocatPair();
    fw = await startYikaFw(['--pty', pair.a, '--pcsc', 'Virtual PCD 00 00', '--pcsc-sam', 'Virtual PCD 00 01', '--secure', 'required']);
    const config = loadConfig(parseDaemonFlags(['--listen', '127.0.0.1:0', '--serial', pair.b, '--secure', 'required', '--trust-test-ca', '--no-pcsc', '--no-serial-discovery']), {});
    app = await createApp({ config, logger: createLogger({ level: 'silent' }) });
    await app.startDevices();
    url = await app.listen();
    // pcscd is one per machine: waiting for the lock (up to 300 s while other pcsc-* files run) counts here.
  }, 420_000);

  afterAll(async () => {
    await app?.close();
    await reference?.close();
    await fw?.stop();
    await pair?.close();
    for (const c of clients) await c.close();
    await sim?.close();
    await pcscd?.release();
  });

  it('reads the whole card through the C core, equal to the read through the in-process simulator', async () => {
    const reader = await until('the yika-fw reader with card and SAM', () => {
      const r = app!.registry.find('serial-1');
      const m = r?.toJSON();
      return m && m.slots.length === 2 && m.slots.every((s) => s.card === 'present') ? r : undefined;
    }, 30_000);
    expect(reader.toJSON()).toMatchObject({ kind: 'serial', model: 'YIKA-FW-LINUX', health: 'ok' });
    expect(reader.toJSON().slots.map((s) => [s.slot, s.kind])).toEqual([
      [0x01, 'contact'],
      [0x11, 'sam'],
    ]);
    const viaFirmware = await readCard(url, 'serial-1');
    expect(Object.keys(viaFirmware.files)).toHaveLength(22);

    const config = loadConfig(parseDaemonFlags(['--listen', '127.0.0.1:0', '--sim', '--seed', String(SEED), '--no-pcsc', '--no-serial-discovery']), {});
    reference = await createApp({ config, logger: createLogger({ level: 'silent' }) });
    await reference.startDevices();
    const refUrl = await reference.listen();
    await until('sim-1 card present', () => reference!.registry.find('sim-1')?.toJSON().slots[0].card === 'present');
    const viaSimulator = await readCard(refUrl, 'sim-1');
    expect(viaFirmware.files).toEqual(viaSimulator.files);
    expect(fw!.output()).not.toMatch(/failed|closed/);
  }, 180_000);

  it('a card pulled from the PC/SC reader reaches the daemon as card.removed, and powerOn then fails NO_CARD', async () => {
    sim!.removeCard(0x01);
    await until('card absent at the daemon', () => app!.registry.get('serial-1').toJSON().slots.find((s) => s.slot === 1)?.card === 'absent', 20_000);
    const res = await fetch(`${url}/v1/readers/serial-1/healthcard?files=DDF1/EF05`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NO_CARD');
  }, 60_000);
});
