import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../../firmware-sim/index.ts';
import { parseCommandLine, normaliseStep } from '../../../firmware-sim/control/sim-commands.ts';
import { parseScenario, runScenario } from '../../../firmware-sim/control/scenario.ts';
import { startControlServer, type ControlServer } from '../../../firmware-sim/control/control-server.ts';
import { parseCliArgs } from '../../../firmware-sim/cli.ts';
import type { DeviceEvent } from '../../../protocol/operations.ts';
import { until } from '../../support/until.ts';

describe('command lines', () => {
  it('parses the human forms', () => {
    expect(parseCommandLine('insert')).toEqual({ cmd: 'insert', card: { kind: 'health' } });
    expect(parseCommandLine('insert 2 transit')).toEqual({ cmd: 'insert', slot: 2, card: { kind: 'transit' } });
    expect(parseCommandLine('insert 1 health seed=42')).toEqual({ cmd: 'insert', slot: 1, card: { kind: 'health', seed: 42 } });
    expect(parseCommandLine('insert 0x12 pin=000000')).toEqual({ cmd: 'insert', slot: 0x12, card: { kind: 'sam', pin: '000000' } });
    expect(parseCommandLine('remove 17')).toEqual({ cmd: 'remove', slot: 17 });
    expect(parseCommandLine('remove')).toEqual({ cmd: 'remove' });
    expect(parseCommandLine('scan EHC1:A B C ending=crlf bounce=2')).toEqual({ cmd: 'scan', text: 'EHC1:A B C', ending: 'crlf', bounce: 2 });
    expect(parseCommandLine('fault remove-card slot=1 when=after apdu=4')).toEqual({ cmd: 'fault', spec: { fault: 'remove-card', slot: 1, when: 'after', apdu: 4 } });
    expect(parseCommandLine('fault remove-card apdu=random maxApdu=9')).toEqual({ cmd: 'fault', spec: { fault: 'remove-card', apdu: 'random', maxApdu: 9 } });
    expect(parseCommandLine('fault corrupt-bytes rate=0.01 direction=to-host')).toEqual({ cmd: 'fault', spec: { fault: 'corrupt-bytes', rate: 0.01, direction: 'to-host' } });
    expect(parseCommandLine('wait 150')).toEqual({ cmd: 'wait', ms: 150 });
    expect(parseCommandLine('{"cmd":"speed","value":1}')).toEqual({ cmd: 'speed', value: 1 });
    expect(parseCommandLine('   # comment')).toBeUndefined();
    expect(parseCommandLine('')).toBeUndefined();
  });

  it('refuses bad lines with SIM_BAD_COMMAND', () => {
    for (const line of ['explode', 'insert 9', 'insert 1 dragon', 'remove x', 'wait -1', 'scan', 'fault', 'fault slow-card extraMs=abc', 'speed fast', '{not json', 'insert 1 health seed=-3']) {
      expect(() => parseCommandLine(line), line).toThrow(expect.objectContaining({ code: 'SIM_BAD_COMMAND' }));
    }
  });

  it('scenario shorthand steps', () => {
    expect(normaliseStep({ insert: { slot: 1, kind: 'health', seed: 3 } }, 0)).toEqual({ cmd: 'insert', slot: 1, card: { kind: 'health', seed: 3 } });
    expect(normaliseStep({ insert: 17 }, 0)).toEqual({ cmd: 'insert', slot: 17, card: { kind: 'sam' } });
    expect(normaliseStep({ remove: 1 }, 0)).toEqual({ cmd: 'remove', slot: 1 });
    expect(normaliseStep({ scan: 'X' }, 0)).toEqual({ cmd: 'scan', text: 'X' });
    expect(normaliseStep({ fault: 'reset-reader' }, 0)).toEqual({ cmd: 'fault', spec: { fault: 'reset-reader' } });
    expect(normaliseStep('wait 5', 0)).toEqual({ cmd: 'wait', ms: 5 });
    expect(() => normaliseStep({ insert: 1, remove: 1 }, 4)).toThrow(/step 5/);
  });
});

describe('scenarios', () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('parses YAML and JSON, and runs the steps in order with their events', async () => {
    const yaml = `
name: card swap and a scan
steps:
  - remove: 1
  - insert: { slot: 1, kind: blank }
  - scan: { text: "EHC1:ONE", ending: cr, bounce: 1, bounceIntervalMs: 5 }
  - wait: 10
  - fault: { fault: slow-card, slot: 1, extraMs: 100 }
  - status
`;
    const s = parseScenario(yaml);
    expect(s.name).toBe('card swap and a scan');
    expect(s.steps.map((x) => x.cmd)).toEqual(['remove', 'insert', 'scan', 'wait', 'fault', 'status']);
    expect(parseScenario(JSON.stringify([{ cmd: 'remove', slot: 1 }])).steps).toEqual([{ cmd: 'remove', slot: 1 }]);

    sim = createSimulator();
    const events: DeviceEvent[] = [];
    sim.reader.on((e) => events.push(e));
    const out = await runScenario(sim.controller, s);
    expect(out).toMatchObject({ ok: true, ran: 6, errors: [] });
    expect(out.log.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events).toEqual([
      { type: 'card.removed', slot: 1 },
      { type: 'card.inserted', slot: 1 },
      { type: 'qr.scanned', text: 'EHC1:ONE\r' },
      { type: 'qr.scanned', text: 'EHC1:ONE\r' },
    ]);
    expect(sim.reader.cardIn(1)?.label).toMatch(/blank/);
    expect(sim.faults.log).toContain('slow-card slot 1 +100 ms');
  });

  it('invalid scenario files are SIM_SCENARIO_INVALID with the step number', () => {
    expect(() => parseScenario('steps: [ { insert: 1 }, { frobnicate: 2 } ]')).toThrow(/step 2/);
    expect(() => parseScenario('just text')).toThrow(expect.objectContaining({ code: 'SIM_SCENARIO_INVALID' }));
    expect(() => parseScenario('{ a: [')).toThrow(expect.objectContaining({ code: 'SIM_SCENARIO_INVALID' }));
  });

  it('a failing step stops the run with its index (unless continueOnError)', async () => {
    sim = createSimulator();
    const s = parseScenario('- insert: { slot: 1, kind: health, profile: /nonexistent/profile.json }\n- remove: 1');
    await expect(runScenario(sim.controller, s)).rejects.toThrow(/step 1 \(insert\)/);
    expect(await runScenario(sim.controller, s, { continueOnError: true })).toMatchObject({ ran: 2, errors: [{ step: 1 }] });
  });
});

describe('control channel (HTTP)', () => {
  let sim: Simulator | undefined;
  let server: ControlServer | undefined;
  afterEach(async () => {
    await server?.close();
    await sim?.close();
  });

  it('serves status, commands, lines and scenarios; bad input is 400 with a typed error', async () => {
    sim = createSimulator();
    server = await startControlServer(sim.controller, { port: 0 });
    const status = await (await fetch(`${server.url}/status`)).json();
    expect(status.ok).toBe(true);
    expect(status.result.slots[0]).toMatchObject({ slot: 1, card: 'present', label: 'health-card' });
    const cmd = await fetch(`${server.url}/command`, { method: 'POST', body: JSON.stringify({ cmd: 'remove', slot: 1 }) });
    expect(cmd.status).toBe(200);
    expect(await cmd.json()).toEqual({ ok: true, result: { slot: 1, removed: true } });
    const badJson = await fetch(`${server.url}/command`, { method: 'POST', body: '{' });
    expect(badJson.status).toBe(400);
    expect((await badJson.json()).error.code).toBe('SIM_BAD_COMMAND');
    const lines = await fetch(`${server.url}/line`, { method: 'POST', body: 'insert 1 mute\nbogus' });
    expect(lines.status).toBe(400);
    const body = await lines.json();
    expect(body[0]).toEqual({ ok: true, result: { slot: 1 } });
    expect(body[1].error.code).toBe('SIM_BAD_COMMAND');
    const scen = await fetch(`${server.url}/scenario`, { method: 'POST', body: '- remove: 1\n- insert: 1' });
    expect(await scen.json()).toMatchObject({ ok: true, ran: 2 });
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    const time = await (await fetch(`${server.url}/time`)).json();
    expect(time.result.totalUs).toBe(0);
  });
});

describe('yika-sim flags', () => {
  it('parses transports and options', () => {
    expect(parseCliArgs(['--pty', '/tmp/a', '--host-pty', '/tmp/b', '--seed', '5', '--speed', '0.5', '--control', '0'])).toMatchObject({
      pty: '/tmp/a', hostPty: '/tmp/b', seed: 5, speed: 0.5, control: 0, stdin: true,
    });
    expect(parseCliArgs(['--tcp', '127.0.0.1:7000']).tcp).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(parseCliArgs(['--vpcd', '35963']).vpcd).toEqual({ host: '127.0.0.1', port: 35963 });
    expect(parseCliArgs(['--vpcd', 'localhost:35964']).vpcd).toEqual({ host: 'localhost', port: 35964 });
    expect(parseCliArgs(['--help']).help).toBe(true);
  });

  it('refuses bad flags with SIM_BAD_OPTION', () => {
    for (const argv of [[], ['--pty'], ['--tcp', '7000'], ['--tcp', 'h:99999'], ['--vpcd', 'x'], ['--pty', 'a', '--speed', '-1'], ['--pty', 'a', '--seed', '1.5'],
      ['--pty', 'a', '--sam-pin', '12'], ['--pty', 'a', '--secure', 'maybe'], ['--host-pty', 'b'], ['--pty', 'a', '--exit-after-scenario'], ['--pty', 'a', 'extra'], ['--frob']]) {
      expect(() => parseCliArgs(argv), argv.join(' ')).toThrow(expect.objectContaining({ code: 'SIM_BAD_OPTION' }));
    }
  });
});

describe('stdin line input', () => {
  it('answers each line in order: ok, results, typed errors', async () => {
    const { PassThrough } = await import('node:stream');
    const { attachLineInput } = await import('../../../firmware-sim/control/line-input.ts');
    const sim = createSimulator();
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d) => (text += d));
    const detach = attachLineInput(input, output, sim.controller);
    input.write('remove 1\nscan HELLO\n\nfrobnicate\nfault corrupt-bytes rate=0.5\nhelp\n');
    await until('the answer to help (the last line)', () => text.includes('commands ('), 10_000, 10);
    const lines = text.split('\n');
    expect(lines[0]).toBe('ok {"slot":1,"removed":true}');
    expect(lines[1]).toBe('ok');
    expect(lines[2]).toBe('error SIM_BAD_COMMAND: unknown command; try "help"');
    expect(lines[3]).toBe('ok');
    expect(lines[4]).toMatch(/^commands \(/);
    expect(text).not.toContain('HELLO');
    detach();
    await sim.close();
  });
});

describe('example scenario', () => {
  it('firmware-sim/control/examples/front-desk-day.yaml parses and runs (waits skipped)', async () => {
    const { loadScenario } = await import('../../../firmware-sim/control/scenario.ts');
    const s = await loadScenario(new URL('../../../firmware-sim/control/examples/front-desk-day.yaml', import.meta.url).pathname);
    expect(s.name).toBe('front desk day');
    expect(s.steps.length).toBeGreaterThan(20);
    const sim = createSimulator();
    const events: DeviceEvent[] = [];
    sim.reader.on((e) => events.push(e));
    const fast = { ...s, steps: s.steps.filter((x) => x.cmd !== 'wait') };
    const out = await runScenario(sim.controller, fast);
    expect(out.errors).toEqual([]);
    expect(events.filter((e) => e.type === 'qr.scanned').length).toBe(5);
    expect(sim.faults.log).toEqual(expect.arrayContaining(['reset-reader', 'sam-missing slot 17']));
    await sim.close();
  });
});
