// The whole daemon reading the simulated Resident Health Card as a PC/SC card: the simulator's card
// (slot 0x01) on vpcd's first reader and its SAM (slot 0x11) on the second, pcscd in between, the
// daemon's PC/SC backend mapping both to one logical reader — every file read with SAM authorization,
// equal to the generated profile; an item written and read back; every writable item, the photo,
// appends and every visit slot written, then slots erased, all read back (test/support/write-everything.ts);
// a card removal seen as an event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YikaApp } from '../../daemon/app.ts';
import { loadPcsclite } from '../../daemon/devices/pcsc-backend.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import { pcscUnavailableReason } from '../support/pcscd.ts';
import { startPcscDesk, type PcscDesk } from '../support/pcsc-desk.ts';
import { TEST_AUTH } from '../support/api-token.ts';
import { writeEverything } from '../support/write-everything.ts';
import { until } from '../support/until.ts';

const reason = pcscUnavailableReason() ?? (loadPcsclite().factory ? undefined : 'the pcsclite addon is not built');
if (reason) console.warn(`SKIPPED pcsc-healthcard tests: ${reason}`);

describe.skipIf(!!reason)('daemon reads the simulated health card through pcscd + vpcd', () => {
  let sim: Simulator;
  let desk: PcscDesk;
  let app: YikaApp;
  let url: string;

  beforeAll(async () => {
    sim = createSimulator({ seed: 5 });
    desk = await startPcscDesk(sim, { tokens: true }); // writes need a token with the write capability
    ({ app, url } = desk);
  }, 120_000);

  afterAll(async () => {
    await desk?.close();
    await sim?.close();
  });

  it('reads every file, SAM-authorized over PC/SC, equal to the generated profile', async () => {
    const reader = await until('pcsc reader with card and SAM', () => {
      const r = app.registry.find('pcsc-1');
      const m = r?.toJSON();
      return m && m.slots.length === 2 && m.slots.every((s) => s.card === 'present') ? r : undefined;
    });
    expect(reader.toJSON().slots.map((s) => [s.slot, s.kind])).toEqual([
      [0x01, 'contact'],
      [0x11, 'sam'],
    ]);
    const res = await fetch(`${url}/v1/readers/pcsc-1/healthcard?files=all`);
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(200);
    expect(Object.keys(body.files)).toHaveLength(22);
    const items: Record<number, string | null> = {};
    for (const f of Object.values<any>(body.files)) if (f.kind === 'tlv') for (const it of f.items) items[it.itemNo] = it.value;
    for (let n = 1; n <= 57; n++) expect([n, items[n]]).toEqual([n, sim.profile.items[n] ?? null]);
    expect(body.files['DDF1/EF07'].base64).toBe(sim.profile.photo ?? null);
    // PC/SC has no batch operation: one round trip per APDU.
    expect(body.roundTrips).toBeGreaterThanOrEqual(body.apdus);
  }, 120_000);

  it('writes an item through PC/SC and reads it back', async () => {
    const w = await fetch(`${url}/v1/readers/pcsc-1/healthcard/items`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...TEST_AUTH },
      body: JSON.stringify({ items: { 17: '13912345678' } }),
    });
    expect(w.status).toBe(200);
    const r = await fetch(`${url}/v1/readers/pcsc-1/healthcard/items?ids=17&format=pipe`);
    expect(await r.text()).toBe('13912345678');
  }, 60_000);

  it('writes every writable item, the photo, appends and every visit slot through PC/SC, then erases some; read back equal', async () => {
    const report = await writeEverything(url, 'pcsc-1', { seed: 2, log: (l) => console.log(l) });
    expect(report.tlvItems).toHaveLength(57);
    expect(report.notWritable).toEqual([]);
    expect(report.unchangedByDesign.every((n) => n === 1 || n === 2)).toBe(true);
    expect(report.visitItems).toBe(3 * 149 + 5 * 172);
    expect(app.registry.get('pcsc-1').toJSON().slots.map((s) => s.card)).not.toContain('absent');
  }, 180_000);

  it('sees the card leave and answers NO_CARD', async () => {
    sim.removeCard(0x01);
    await until('card absent', () => app.registry.get('pcsc-1').toJSON().slots[0].card === 'absent');
    const res = await fetch(`${url}/v1/readers/pcsc-1/healthcard?files=DDF1/EF05`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).error.code).toBe('NO_CARD');
  }, 60_000);
});
