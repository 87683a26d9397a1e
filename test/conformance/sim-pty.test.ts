// The real target of the conformance suite: `yika-sim --pty` in its own process on one end of a socat
// PTY pair, and `yika conformance --port` (the CLI, real serialport) on the other. Every check must
// pass, the secure-channel ones included (the simulator requires the channel, with its TEST-ONLY CA),
// and the loss checks (a repeated id answered once, pending notices during a long batch).
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../daemon/conformance/conformance-checks.ts';
import { runConformanceCli } from '../support/conformance-cli.ts';
import { socatAvailable, startSocatPair, type SocatPair } from '../support/socat.ts';
import { startSimProcess, type SimProcess } from '../integration/sim-process.ts';

const haveSocat = socatAvailable();
if (!haveSocat) console.warn('SKIPPED test/conformance/sim-pty.test.ts: socat is not installed (apt-get install socat)');

describe.skipIf(!haveSocat)('conformance suite against yika-sim over a socat PTY pair', () => {
  let pair: SocatPair | undefined;
  let sim: SimProcess | undefined;
  afterAll(async () => {
    await sim?.stop();
    await pair?.close();
  });

  it('passes every check (yika conformance --port … --test-ca --json)', async () => {
    pair = await startSocatPair();
    // Real-time card timing (--speed 1): a batch of GET CHALLENGE runs long enough for pending notices.
    sim = await startSimProcess(['--pty', pair.a, '--secure', 'required', '--no-stdin', '--seed', '5', '--speed', '1']);
    const { code, report, notPassed } = await runConformanceCli(['--port', pair.b, '--test-ca'], 120_000);
    expect(notPassed).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.unexercised).toEqual([]);
    // PPS to the health card's TA1 (PROTOCOL.md 6.1): the rate the reader reports is TA1's.
    expect(report.results.find((r) => r.id === 'ops.card-rate')?.detail).toMatch(/TA1 96 → Fi 512 Di 32, 250 kbit\/s at 4 MHz$/);
    expect(report.results.map((r) => r.id)).toEqual(CHECKS.map((c) => c.id)); // all of them, in order
    expect(report.device?.serial).toBe(sim.ready.serial);
    expect(code).toBe(0);
  }, 180_000);
});
