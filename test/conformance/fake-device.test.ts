// The conformance suite against a fake device built on DeviceSession: every check must pass on a good
// device, and the suite must catch a device that breaks a rule.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runConformance, formatReportTable } from '../../daemon/conformance/index.ts';
import { run as runCli } from '../../daemon/cli/commands/conformance.ts';
import { DeviceError } from '../../protocol/device-error.ts';
import { DeviceSession, type DeviceSessionOptions } from '../../protocol/device-session.ts';
import { createLinkPair, socketLink } from '../../protocol/link.ts';
import { testDeviceIdentity, testTrustedCa } from '../../protocol/secure/test-ca.ts';
import { FakeReader } from '../unit/protocol/fake-reader.ts';

async function against(reader: FakeReader, options: DeviceSessionOptions = {}, trusted = true, allowUnexercised = false) {
  const [host, device] = createLinkPair();
  new DeviceSession(device, reader, options);
  const report = await runConformance(host, { trustedCas: trusted ? [testTrustedCa()] : [], allowUnexercised });
  host.close();
  return report;
}

/** A card with a real GET CHALLENGE (8 random bytes) that takes 30 ms per command: a full batch runs ≈ 0.5 s. */
class ChallengeReader extends FakeReader {
  override async transmit(slot: number, apdu: Uint8Array): Promise<Uint8Array> {
    if (apdu[1] !== 0x84) return super.transmit(slot, apdu);
    await super.transmit(slot, Uint8Array.of(0x00, 0xb0, 0x00, 0x00, 0x00)); // powered checks
    await new Promise((r) => setTimeout(r, 30));
    return Uint8Array.of(...randomBytes(8), 0x90, 0x00);
  }
}

/** The device's side of a required secure channel (its TEST-ONLY identity): the set-up of most runs below. */
const CHANNEL_REQUIRED = { identity: testDeviceIdentity('FAKE-0001'), require: true };

const failures = (r: Awaited<ReturnType<typeof against>>) => r.results.filter((x) => x.status === 'fail').map((x) => `${x.id}: ${x.detail}`);

describe('conformance suite against the fake device', () => {
  it('fails no check on a plaintext device, but is not CONFORMANT while two MUST checks were not exercised', async () => {
    const report = await against(new FakeReader());
    expect(failures(report)).toEqual([]);
    // The fake card has no GET CHALLENGE and answers at once, and the device has no diagHold: the loss
    // checks have nothing to observe (see below). A MUST that was not exercised is not a pass.
    expect(report.unexercised).toEqual(['ops.repeat-once', 'ops.pending-notice']);
    expect(report.ok).toBe(false);
    expect(formatReportTable(report)).toMatch(/NOT CONFORMANT \(2 MUST checks not exercised: ops\.repeat-once, ops\.pending-notice\)/);
    expect(report.results.filter((r) => r.status === 'skip').map((r) => r.id)).toEqual([
      'secure.required', 'secure.handshake', 'secure.tampered-record', 'secure.replayed-record', 'secure.plaintext-inside',
      'secure.record-without-channel', 'secure.record-seq', 'secure.rekey',
    ]);
    const allowed = await against(new FakeReader(), {}, true, true);
    expect(allowed.ok).toBe(true);
    expect(formatReportTable(allowed)).toMatch(/CONFORMANT \(2 MUST checks not exercised: .*\), accepted with --allow-unexercised/);
  });

  it('passes every check, secure ones included, on a device that requires the secure channel', async () => {
    const report = await against(new FakeReader(), { secure: CHANNEL_REQUIRED });
    expect(failures(report)).toEqual([]);
    expect(report.results.find((r) => r.id === 'secure.required')?.status).toBe('pass');
    expect(report.results.find((r) => r.id === 'secure.tampered-record')?.status).toBe('pass');
    expect(report.results.filter((r) => r.status === 'skip').map((r) => r.id)).toEqual([]);
    expect(report.unexercised).toEqual(['ops.repeat-once', 'ops.pending-notice']);
  });

  it('exercises pending notices with diagHold on a device whose card is fast, and catches a silent one', async () => {
    const good = await against(new FakeReader(), { diagnostics: true, secure: CHANNEL_REQUIRED });
    expect(good.results.find((r) => r.id === 'ops.pending-notice')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/diagHold.*a repeat while held → a notice at once/) });
    const silent = await against(new FakeReader(), { diagnostics: true, secure: CHANNEL_REQUIRED, pendingNoticeMs: 0 });
    expect(failures(silent)).toEqual([expect.stringMatching(/^ops\.pending-notice: 0 pending notices during a 1000 ms diagHold/)]);
  });

  it('catches devices that break the 1.2 rules: hello id kept in the window (D1), plaintext inside answered (D8), an oversize batch run first (D3)', async () => {
    const d1 = await against(new FakeReader(), { secure: CHANNEL_REQUIRED, quirks: ['hello-id-in-window'] });
    expect(failures(d1)).toContainEqual(expect.stringMatching(/^hello\.ids-restart: hello with id 500, then ping with id 1: no answer/));
    const d8 = await against(new FakeReader(), { secure: CHANNEL_REQUIRED, quirks: ['answer-plaintext-inside'] });
    expect(failures(d8)).toEqual([expect.stringMatching(/^secure\.plaintext-inside: the plaintext request got an answer of its own \(NOT_READY\)/)]);
    const d3 = await against(new FakeReader(), { secure: CHANNEL_REQUIRED, quirks: ['batch-then-too-large'] });
    expect(failures(d3)).toEqual([expect.stringMatching(/^ops\.answer-fits: executed/)]);
  });

  it('skips plaintext operations with a hint when a required channel cannot be opened', async () => {
    const report = await against(new FakeReader(), { secure: CHANNEL_REQUIRED }, false);
    expect(failures(report)).toEqual([]);
    expect(report.results.find((r) => r.id === 'ops.transmit')?.detail).toMatch(/vendor CA/);
  });

  it('catches a device that answers the wrong error code', async () => {
    const reader = new FakeReader();
    reader.powerOn = async (slot) => {
      if (slot > 0x20) throw new DeviceError('INTERNAL', 'oops');
      return FakeReader.prototype.powerOn.call(reader, slot);
    };
    const report = await against(reader);
    expect(report.ok).toBe(false);
    expect(failures(report)).toEqual(['ops.bad-slot: got INTERNAL']);
  });

  it('catches a batch that does not stop at an unexpected status word', async () => {
    const reader = new FakeReader();
    reader.transmitBatch = async (slot, commands) => ({ responses: await Promise.all(commands.map((c) => reader.transmit(slot, c.apdu))) });
    const report = await against(reader);
    expect(failures(report)).toEqual([
      'ops.batch: 3 responses, stoppedAt undefined',
      'ops.batch-t0-stop: slot 0x11: 2 responses (6102, 6102), stoppedAt undefined: the batch ran on past 61xx',
      'ops.batch-too-long: got CARD_NOT_POWERED',
    ]);
  });

  it('catches a batch that runs on past a 61xx answer because expect allowed it (T=0 data lost)', async () => {
    const reader = new FakeReader();
    // The old rule: only expect decides.
    reader.transmitBatch = async (slot, commands) => {
      if (commands.length > 16) throw new DeviceError('BATCH_TOO_LONG');
      const responses: Uint8Array[] = [];
      for (const [i, c] of commands.entries()) {
        const r = await reader.transmit(slot, c.apdu);
        responses.push(r);
        const sw = (r[r.length - 2] << 8) | r[r.length - 1];
        if (!(c.expect ?? [{ sw: 0x9000, mask: 0xffff }]).some((e) => (sw & e.mask) === e.sw)) return { responses, stoppedAt: i };
      }
      return { responses };
    };
    const report = await against(reader);
    expect(failures(report)).toEqual(['ops.batch-t0-stop: slot 0x11: 2 responses (6102, 6102), stoppedAt undefined: the batch ran on past 61xx']);
    expect(report.ok).toBe(false);
  });

  it('passes the loss checks on a device whose card has GET CHALLENGE and takes its time, also inside the secure channel', async () => {
    for (const options of [{}, { secure: CHANNEL_REQUIRED }]) {
      const report = await against(new ChallengeReader(), options);
      const loss = report.results.filter((r) => r.id === 'ops.repeat-once' || r.id === 'ops.pending-notice');
      expect(loss.map((r) => `${r.id} ${r.status}`)).toEqual(['ops.repeat-once pass', 'ops.pending-notice pass']);
      expect(failures(report)).toEqual([]);
    }
  });

  it('catches a device that executes a repeated request id again (two challenges for one id)', async () => {
    const report = await against(new ChallengeReader(), { repeats: 'execute' });
    expect(failures(report)).toEqual([expect.stringMatching(/^ops\.repeat-once: at-once: the repeat was executed again: two challenges [0-9A-F]+ and [0-9A-F]+ for one id$/)]);
    expect(report.ok).toBe(false);
  });

  it('catches a device that stays silent while a long request runs (no pending notices)', async () => {
    const report = await against(new ChallengeReader(), { pendingNoticeMs: 0 });
    expect(failures(report)).toEqual([expect.stringMatching(/^ops\.pending-notice: 0 pending notices during \d+ ms, longest silence \d+ ms$/)]);
  });

  it('catches a device whose ping is slow', async () => {
    const reader = new FakeReader();
    reader.ping = () => new Promise((r) => setTimeout(r, 1200));
    const [host, device] = createLinkPair();
    new DeviceSession(device, reader);
    const report = await runConformance(host, { only: ['keepalive.ping'] });
    host.close();
    expect(report.results.find((r) => r.id === 'keepalive.ping-latency')?.status).toBe('fail');
  });
});

describe('yika conformance --tcp (CLI over a real socket)', () => {
  let server: Server;
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('prints the JSON report and exits 0 for a conformant device', async () => {
    server = createServer((socket) => {
      new DeviceSession(socketLink(socket), new ChallengeReader(), { diagnostics: true, secure: { identity: testDeviceIdentity('FAKE-0001') } });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    let out = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    try {
      const code = await runCli(['--tcp', `127.0.0.1:${port}`, '--test-ca', '--json']);
      expect(code).toBe(0);
    } finally {
      write.mockRestore();
    }
    const report = JSON.parse(out);
    expect(report.ok).toBe(true);
    expect(report.unexercised).toEqual([]);
    expect(report.device.serial).toBe('FAKE-0001');
    expect(report.results.find((r: { id: string }) => r.id === 'secure.handshake').status).toBe('pass');
  });

  it('exits 2 with a usage message for bad arguments', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await runCli([])).toBe(2);
      expect(await runCli(['--tcp', 'nohostport'])).toBe(2);
      expect(await runCli(['--tcp', '127.0.0.1:1', '--time-scale', '0'])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });
});
