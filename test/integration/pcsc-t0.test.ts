// A T=0-only health card through the real pcscd + vpcd: its ATR offers only T=0, so pcscd connects
// with T=0 and the card answers every DF SELECT with 61xx, which the daemon's ISO layer must fetch with
// GET RESPONSE (00 C0). The SAM is T=0 as well. The whole card is read with SAM authorization and must
// equal the generated profile; the trace shows the 61xx / GET RESPONSE dialogue really happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YikaApp } from '../../daemon/app.ts';
import { loadPcsclite } from '../../daemon/devices/pcsc-backend.ts';
import { createHealthCard, generateProfile } from '../../firmware-sim/cards/index.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import { pcscUnavailableReason } from '../support/pcscd.ts';
import { startPcscDesk, type PcscDesk } from '../support/pcsc-desk.ts';
import { TEST_AUTH } from '../support/api-token.ts';
import { until } from '../support/until.ts';

const reason = pcscUnavailableReason() ?? (loadPcsclite().factory ? undefined : 'the pcsclite addon is not built');
if (reason) console.warn(`SKIPPED pcsc-t0 tests: ${reason}`);

const SEED = 23;

describe.skipIf(!!reason)('a T=0-only health card through pcscd + vpcd', () => {
  let sim: Simulator;
  let desk: PcscDesk;
  let app: YikaApp;
  let url: string;
  const profile = generateProfile(SEED);

  beforeAll(async () => {
    sim = createSimulator({ seed: SEED, cards: { 0x01: createHealthCard(profile, { protocols: [0] }) } });
    desk = await startPcscDesk(sim, { tokens: true });
    ({ app, url } = desk);
  }, 120_000);

  afterAll(async () => {
    await desk?.close();
    await sim?.close();
  });

  it('reads every file with SAM authorization, equal to the profile, through 61xx and GET RESPONSE', async () => {
    await until(
      'pcsc reader with card and SAM',
      () => {
        const m = app.registry.find('pcsc-1')?.toJSON();
        return m && m.slots.length === 2 && m.slots.every((s) => s.card === 'present');
      },
      60_000,
    );
    const headers = { 'content-type': 'application/json', ...TEST_AUTH };
    const on = await fetch(`${url}/v1/readers/pcsc-1/trace`, { method: 'PUT', headers, body: JSON.stringify({ enabled: true, clear: true }) });
    expect(on.status).toBe(200);
    const res = await fetch(`${url}/v1/readers/pcsc-1/healthcard?files=all`);
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(200);
    expect(Object.keys(body.files)).toHaveLength(22);
    const items: Record<number, string | null> = {};
    for (const f of Object.values<any>(body.files)) if (f.kind === 'tlv') for (const it of f.items) items[it.itemNo] = it.value;
    for (let n = 1; n <= 57; n++) expect([n, items[n]]).toEqual([n, profile.items[n] ?? null]);
    expect(body.files['DDF1/EF07'].base64).toBe(profile.photo ?? null);
    // The card was really driven on T=0: 61xx answers and GET RESPONSE commands in the trace.
    const trace = (await (await fetch(`${url}/v1/readers/pcsc-1/trace`, { headers: TEST_AUTH })).json()) as { text: string };
    expect(trace.text).toMatch(/A<< .*61 [0-9A-F]{2}\s*$/m);
    expect(trace.text).toMatch(/A>> 00 C0 00 00/);
  }, 180_000);
});
