// The C reader core's Linux port against the project's conformance suite, over a real socat PTY pair:
// `yika-fw --pty … --demo-card --secure required` on one end, `yika conformance --port … --test-ca
// --json` (the CLI, real serialport) on the other. Every check must pass: none failed, none not
// applicable, none unexercised (the demo card is T=0 with GET CHALLENGE; diagHold drives the slow paths).
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../daemon/conformance/conformance-checks.ts';
import { runConformanceCli } from '../support/conformance-cli.ts';
import { socatAvailable, startSocatPair, type SocatPair } from '../support/socat.ts';
import { firmwareToolchainMissing, makeFirmware, startYikaFw, YIKA_FW, YIKA_FW_ASAN, type FirmwareProcess } from '../support/firmware.ts';

const missing = firmwareToolchainMissing() ?? (socatAvailable() ? undefined : 'socat is not installed');
if (missing) console.warn(`SKIPPED test/firmware/yika-fw-conformance.test.ts: ${missing} (apt-get install gcc make libssl-dev libpcsclite-dev socat)`);

describe.skipIf(missing !== undefined)('yika-fw (C core, Linux port) passes the conformance suite over a PTY', () => {
  let pair: SocatPair | undefined;
  let fw: FirmwareProcess | undefined;
  afterAll(async () => {
    await fw?.stop();
    await pair?.close();
  });

  it.each([
    ['yika-fw', YIKA_FW],
    ['yika-fw built with ASan + UBSan', YIKA_FW_ASAN],
  ])('%s: yika conformance --port … --test-ca: every check passes, none skipped or unexercised', async (_name, binary) => {
    makeFirmware(binary === YIKA_FW ? 'build/yika-fw' : 'build/yika-fw-asan');
    await fw?.stop();
    await pair?.close();
    pair = await startSocatPair();
    fw = await startYikaFw(['--pty', pair.a, '--demo-card', '--secure', 'required'], 20_000, binary);
    // The sanitized build runs several times slower: its waits get twice the room (--time-scale 2).
    const { code, report, notPassed } = await runConformanceCli(['--port', pair.b, '--test-ca', ...(binary === YIKA_FW_ASAN ? ['--time-scale', '2'] : [])], 150_000, () => fw!.output());
    expect(notPassed).toEqual([]);
    expect(report.unexercised).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.results.map((r) => r.id)).toEqual(CHECKS.map((c) => c.id)); // all of them, in order
    expect(report.device).toMatchObject({ serial: 'YKFW-0001', model: 'YIKA-FW-LINUX', secureChannel: 'required' });
    expect(code).toBe(0);
    await fw.stop();
    // A sanitizer report (it would also have cut the run short) fails the test with its text.
    expect(fw.output()).not.toMatch(/AddressSanitizer|LeakSanitizer|runtime error/);
  }, 240_000);
});
