// Scenarios for QA: the desk-day scenario (every code kind, expect steps) passes; a failing expect
// stops the scenario with a clear message and a per-step log; POST /scenario?detach=1 runs in the
// background and is polled; the SAM honours seed= and province=.
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../../firmware-sim/index.ts';
import { startControlServer } from '../../../firmware-sim/control/control-server.ts';
import { loadScenario, parseScenario, runScenario } from '../../../firmware-sim/control/scenario.ts';
import { parseCommandLine } from '../../../firmware-sim/control/sim-commands.ts';
import { generateProfile } from '../../../firmware-sim/cards/index.ts';
import { provinceOfProfile } from '../../../firmware-sim/personalisation/index.ts';
import { until } from '../../support/until.ts';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('scenarios with expect steps', () => {
  it('the desk-day scenario with every code kind passes, with one log entry per step', async () => {
    sim = createSimulator({ seed: 7 });
    const scenario = await loadScenario(new URL('../../../firmware-sim/control/examples/desk-day-expect.yaml', import.meta.url).pathname);
    const outcome = await runScenario(sim.controller, scenario);
    expect(outcome.errors).toEqual([]);
    expect(outcome.ok).toBe(true);
    expect(outcome.log).toHaveLength(scenario.steps.length);
    expect(outcome.log.every((e) => e.ok && typeof e.ms === 'number')).toBe(true);
    const qr = outcome.log.filter((e) => e.cmd === 'expect' && (e.result as { qr?: string })?.qr).map((e) => (e.result as { kind: string }).kind);
    expect(new Set(qr)).toEqual(new Set(['ehc1', 'ehc-online', 'insurance', 'payment', 'id-number', 'unknown']));
    // The log names kinds, never the scanned texts.
    expect(JSON.stringify(outcome.log)).not.toMatch(/EHC1:\d|\d{16,}/);
  });

  it('a failing expect stops the scenario with what was expected and what was found', async () => {
    sim = createSimulator({ seed: 7 });
    const s = parseScenario(['remove 1', 'expect slot=1 card=present', 'insert 1'].join('\n').split('\n').map((l) => `- ${l}`).join('\n'));
    await expect(runScenario(sim.controller, s)).rejects.toMatchObject({ code: 'SIM_EXPECTATION_FAILED', message: expect.stringContaining('expected slot 0x1 to be present, but it is absent') });
    const soft = await runScenario(sim.controller, s, { continueOnError: true });
    expect(soft.ok).toBe(false);
    expect(soft.ran).toBe(2); // the insert after the failed expect did not run
    expect(soft.log.map((e) => [e.step, e.cmd, e.ok])).toEqual([
      [1, 'remove', true],
      [2, 'expect', false],
    ]);
    const qr = parseScenario('- sample: wechat\n- expect: { qr: VALID }');
    const r = await runScenario(sim.controller, qr, { continueOnError: true });
    expect(r.errors[0].message).toBe('expected the last scan to verify as VALID, but it is NOT_EHC1');
    const ev = await runScenario(sim.controller, parseScenario('- expect: { event: card.inserted, slot: 2, within: 50 }'), { continueOnError: true });
    expect(ev.errors[0].message).toMatch(/expected event card.inserted in slot 2 within 50 ms; events since the last match: /);
  });

  it('POST /scenario?detach=1 answers at once and the run is polled until it ends', async () => {
    sim = createSimulator({ seed: 7 });
    const control = await startControlServer(sim.controller);
    try {
      // The run holds at its first step until the test scans a code (not for a time the first poll could outlast).
      const body = '- expect: { event: qr.scanned, within: 60000 }\n- remove: 1\n- expect: { slot: 1, card: absent }\n- expect: { slot: 1, card: present }\n';
      const started = await fetch(`${control.url}/scenario?detach=1`, { method: 'POST', body });
      expect(started.status).toBe(202);
      const { id, poll } = (await started.json()) as { id: string; poll: string };
      expect((await (await fetch(control.url + poll)).json()).state).toBe('running');
      await sim.scan('EHC1:GO');
      const run: any = await until('the detached run ended', async () => {
        const r = (await (await fetch(`${control.url}/scenario/${id}`)).json()) as { state: string };
        return r.state !== 'running' && r;
      }, 20_000, 25);
      expect(run).toMatchObject({ id, state: 'failed', ok: false, ran: 4 });
      expect(run.errors[0]).toMatchObject({ step: 4, code: 'SIM_EXPECTATION_FAILED' });
      expect(run.log.map((e: any) => e.ok)).toEqual([true, true, true, false]);
      expect((await fetch(`${control.url}/scenario/nope`)).status).toBe(404);
    } finally {
      await control.close();
    }
  });

  it('insert sam seed=N serves the province of health card N; province=NN names it; both on the command line', async () => {
    sim = createSimulator({ seed: 7 });
    const want = provinceOfProfile(generateProfile(42));
    const provinceIn = (slot: number) => (sim!.reader.cardIn(slot) as unknown as { province: string }).province;
    await sim.controller.execute(parseCommandLine('insert 0x11 sam seed=42')!);
    expect(provinceIn(0x11)).toBe(want);
    await sim.controller.execute(parseCommandLine('insert 0x12 sam province=61')!);
    expect(provinceIn(0x12)).toBe('61');
    await sim.controller.execute(parseCommandLine('insert 0x13 sam seed=42 province=61')!);
    expect(provinceIn(0x13)).toBe('61'); // an explicit province wins
  });
});
