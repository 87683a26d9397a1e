// PC/SC that heals itself, through the real pcscd + vpcd: another PC/SC program (a separate process)
// resets or powers down the card or the SAM between two daemon reads — the second read answers the
// same data (the daemon reconnects, powers on again and re-verifies the SAM PIN) — and /v1/readers
// says the slot is powered again afterwards. And the simulated card behind vpcd answers a 3-byte APDU
// with 6700 and keeps working (it used to answer nothing, which wedged the virtual reader).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YikaApp } from '../../daemon/app.ts';
import { loadPcsclite } from '../../daemon/devices/pcsc-backend.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import { pcscUnavailableReason } from '../support/pcscd.ts';
import { startPcscDesk, type PcscDesk } from '../support/pcsc-desk.ts';
import { until } from '../support/until.ts';

const reason = pcscUnavailableReason() ?? (loadPcsclite().factory ? undefined : 'the pcsclite addon is not built');
if (reason) console.warn(`SKIPPED pcsc-recovery tests: ${reason}`);

const CARD_READER = 'Virtual PCD 00 00';
const SAM_READER = 'Virtual PCD 00 01';

/**
 * Another PC/SC program: connects shared, sends the APDUs, disconnects with `disposition`. Async: the
 * simulated card answers pcscd from this process, so its event loop must keep running meanwhile.
 */
async function otherClient(reader: string, disposition: 'reset' | 'unpower' | 'leave', apdus: string[] = []): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/support/pcsc-other-client.ts', reader, disposition, ...apdus], { encoding: 'utf8', timeout: 30_000 });
  const lines = stdout.trim().split('\n');
  expect(lines.at(-1)).toBe('ok');
  return lines.slice(0, -1);
}

describe.skipIf(!!reason)('PC/SC recovery through pcscd + vpcd', () => {
  let sim: Simulator;
  let desk: PcscDesk;
  let app: YikaApp;
  let url: string;
  let name: string;

  const readName = async (): Promise<{ status: number; name?: string; code?: string }> => {
    const res = await fetch(`${url}/v1/readers/pcsc-1/healthcard/items?ids=11`);
    const body = (await res.json()) as { items?: Array<{ value: string }>; error?: { code: string } };
    return { status: res.status, name: body.items?.[0]?.value, code: body.error?.code };
  };
  const slotState = async (slot: number): Promise<string> => {
    const r = (await (await fetch(`${url}/v1/readers/pcsc-1`)).json()) as { slots: Array<{ slot: number; card: string }> };
    return r.slots.find((s) => s.slot === slot)!.card;
  };

  beforeAll(async () => {
    sim = createSimulator({ seed: 5 });
    desk = await startPcscDesk(sim);
    ({ app, url } = desk);
    await until('pcsc reader with card and SAM', () => {
      const m = app.registry.find('pcsc-1')?.toJSON();
      return m && m.slots.find((s) => s.slot === 0x01)?.card !== 'absent' && m.slots.find((s) => s.slot === 0x11)?.card !== 'absent';
    }, 30_000);
    name = String((sim.profile.items as Record<number, string | null>)[11]);
  }, 300_000);

  afterAll(async () => {
    await desk?.close();
    await sim?.close();
  });

  it('reads the cardholder (card and SAM powered by the daemon)', async () => {
    expect(await readName()).toEqual({ status: 200, name, code: undefined });
    expect(await slotState(0x01)).toBe('powered');
    expect(await slotState(0x11)).toBe('powered');
  });

  it("reads again after another program's reset of the card (pyscard's default disconnect)", async () => {
    await otherClient(CARD_READER, 'reset');
    expect(await readName()).toEqual({ status: 200, name, code: undefined });
    expect(await slotState(0x01)).toBe('powered');
  });

  it("reads again after another program's power-down of the card", async () => {
    await otherClient(CARD_READER, 'unpower');
    expect(await readName()).toEqual({ status: 200, name, code: undefined });
    expect(await slotState(0x01)).toBe('powered');
  });

  it("reads again after another program's reset and power-down of the SAM (PIN verified again)", async () => {
    await otherClient(SAM_READER, 'reset');
    expect(await readName()).toEqual({ status: 200, name, code: undefined });
    await otherClient(SAM_READER, 'unpower');
    expect(await readName()).toEqual({ status: 200, name, code: undefined });
    expect(await slotState(0x11)).toBe('powered');
  });

  it('answers a 3-byte APDU with 6700 through vpcd, and the next good APDU works', async () => {
    const [short, good] = await otherClient(CARD_READER, 'leave', ['00a404', '00a4040c07a0000000010101']);
    expect(short).toBe('6700');
    expect(good).toMatch(/^[0-9a-f]*[69][0-9a-f]{3}$/); // a status word: the virtual reader is not wedged
    expect(good).not.toMatch(/^error/);
    expect(await readName()).toEqual({ status: 200, name, code: undefined });
  });
});
