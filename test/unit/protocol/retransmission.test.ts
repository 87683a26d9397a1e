// Loss and retransmission (PROTOCOL.md §Loss and retransmission): frames lost on the line in either
// direction — a request, an answer, an event, a pending notice, a handshake message, a record — end in
// the correct answer, and the device executes every request exactly once. No assertion here is about
// speed: where "quickly" matters, the operation timeout is set far beyond what the test may take, so a
// request that waited for it instead of being retransmitted would fail the test by its own timeout.
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceSession } from '../../../protocol/device-session.ts';
import { RECORD_MARKER } from '../../../protocol/frame-channel.ts';
import { FrameDecoder, FrameEncoder } from '../../../protocol/framing.ts';
import { HostSession, type EventGap } from '../../../protocol/host-session.ts';
import { createLinkPair } from '../../../protocol/link.ts';
import { decodeDeviceMessage, decodeRequest, encodeRequest, type DeviceToHostMessage } from '../../../protocol/messages.ts';
import { testDeviceIdentity, testHostKey, testTrustedCa } from '../../../protocol/secure/test-ca.ts';
import { FakeReader } from './fake-reader.ts';
import { until } from '../../support/until.ts';
import { linkWithTap, openHarness, type FrameTap, type Harness } from './session-harness.ts';

const trust = () => ({ hostKey: testHostKey(), trustedCas: [testTrustedCa()] });
const secureDevice = { secure: { identity: testDeviceIdentity('FAKE-0001') } };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** An APDU whose echo identifies it (FakeReader answers data ‖ 9000). */
const apdu = (n: number) => Uint8Array.of(0x00, 0x84, 0x00, 0x00, 0x02, n >> 8, n & 0xff);
/** Far beyond anything a test may take: a request that needed it would fail the test by the test's own timeout. */
const NEVER = 120_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.host.close();
  h = undefined;
});

/** Counts executions of each APDU on the device (exactly once means every count is 1). */
function countExecutions(reader: FakeReader): Map<string, number> {
  const seen = new Map<string, number>();
  const transmit = reader.transmit.bind(reader);
  reader.transmit = async (slot, a) => {
    seen.set(hex(a), (seen.get(hex(a)) ?? 0) + 1);
    return transmit(slot, a);
  };
  return seen;
}

function isRequest(p: Uint8Array, op?: string): boolean {
  try {
    const r = decodeRequest(p);
    return op === undefined || r.op === op;
  } catch {
    return false;
  }
}
function deviceMessage(p: Uint8Array): DeviceToHostMessage | undefined {
  try {
    return decodeDeviceMessage(p);
  } catch {
    return undefined;
  }
}

/** Drops the first `count` frames from `side` for which `match` holds. */
function dropFirst(side: 'host' | 'device', match: (p: Uint8Array) => boolean, count = 1): FrameTap & { dropped: number } {
  const tap = ((p: Uint8Array, from: 'host' | 'device') => {
    if (from === side && tap.dropped < count && match(p)) {
      tap.dropped++;
      return null;
    }
    return p;
  }) as FrameTap & { dropped: number };
  tap.dropped = 0;
  return tap;
}

describe('retransmission: a lost frame costs a retransmission, not the operation timeout', () => {
  it('a lost request is sent again with the same id and executed once', async () => {
    h = await openHarness({ timeouts: { transmit: NEVER } });
    const executed = countExecutions(h.reader);
    await h.host.powerOn(1);
    const tap = dropFirst('host', (p) => isRequest(p, 'transmit'));
    h.setTap(tap);
    expect(hex(await h.host.transmit(1, apdu(1)))).toBe('00019000');
    expect(tap.dropped).toBe(1);
    expect(h.host.counters.retransmits).toBeGreaterThanOrEqual(1);
    expect([...executed.values()]).toEqual([1]);
  });

  it('a lost answer is repeated from the device window: the same answer, not a second execution', async () => {
    h = await openHarness({ timeouts: { transmit: NEVER } });
    const executed = countExecutions(h.reader);
    await h.host.powerOn(1);
    const tap = dropFirst('device', (p) => deviceMessage(p)?.kind === 'result');
    h.setTap(tap);
    expect(hex(await h.host.transmit(1, apdu(2)))).toBe('00029000');
    expect(tap.dropped).toBe(1);
    expect([...executed.values()]).toEqual([1]);
    expect(h.device.counters.repeatsAnswered).toBe(1);
  });

  it('a lost error answer is repeated too (the request is not executed again)', async () => {
    h = await openHarness({ timeouts: { powerOn: NEVER } });
    let powerOns = 0;
    const powerOn = h.reader.powerOn.bind(h.reader);
    h.reader.powerOn = (slot) => {
      powerOns++;
      return powerOn(slot);
    };
    h.setTap(dropFirst('device', (p) => deviceMessage(p)?.kind === 'error'));
    await expect(h.host.powerOn(2)).rejects.toMatchObject({ code: 'NO_CARD' });
    expect(powerOns).toBe(1);
    expect(h.device.counters.repeatsAnswered).toBe(1);
  });

  it('a second answer (the original was only late) is dropped quietly', async () => {
    const hh = (h = await openHarness({ timeouts: { transmit: NEVER } }));
    await hh.host.powerOn(1);
    // Hold the first answer back until a retransmission has gone out, then deliver it late: the host
    // then sees two answers to one request (the late original and the device's repeat), in either order.
    // Under load the retransmission may leave before the device has answered at all; the tap waits for
    // one that follows the held answer, and delivers it once (never after the test).
    let held: Uint8Array | undefined;
    let delivered = false;
    hh.setTap((p, from) => {
      if (from === 'device' && !held && deviceMessage(p)?.kind === 'result') {
        held = p;
        return null;
      }
      if (from === 'host' && held && !delivered && isRequest(p, 'transmit')) {
        delivered = true;
        const late = held;
        setImmediate(() => hh.deviceLink.write(new FrameEncoder().encode(late)));
      }
      return p;
    });
    expect(hex(await hh.host.transmit(1, apdu(3)))).toBe('00039000');
    await until('the second answer to arrive', () => hh.host.counters.duplicateAnswers >= 1);
    // Quietly: the session still works and nothing counted the extra answer as unexpected (a second
    // retransmission under load would bring a second repeat, hence at least one).
    await hh.host.ping();
    expect(hh.host.counters.duplicateAnswers).toBeGreaterThanOrEqual(1);
    expect(hh.host.counters.unexpectedResponses).toBe(0);
  });

  it('gives up with PROTOCOL_TIMEOUT after maxRetransmits when nothing at all comes back, long before the operation timeout', async () => {
    h = await openHarness({ timeouts: { transmit: NEVER }, maxRetransmits: 3, rtoMaxMs: 200 });
    await h.host.powerOn(1);
    let sent = 0;
    h.setTap((p, from) => {
      if (from === 'host' && isRequest(p, 'transmit')) {
        sent++;
        return null;
      }
      return p;
    });
    const err = await h.host.transmit(1, apdu(4)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROTOCOL_TIMEOUT', details: expect.objectContaining({ attempts: 4 }) });
    expect(sent).toBe(4);
    expect(h.host.counters.retransmitFailures).toBe(1);
    h.setTap(undefined);
    expect(hex(await h.host.transmit(1, apdu(5)))).toBe('00059000'); // the session goes on
  });

  it('maxRetransmits 0 keeps the old behaviour: no retransmission, the operation timeout decides', async () => {
    h = await openHarness({ timeouts: { transmit: 400 }, maxRetransmits: 0 });
    await h.host.powerOn(1);
    h.setTap(dropFirst('host', (p) => isRequest(p, 'transmit')));
    await expect(h.host.transmit(1, apdu(6))).rejects.toMatchObject({ code: 'PROTOCOL_TIMEOUT', details: expect.objectContaining({ timeoutMs: 400 }) });
    expect(h.host.counters.retransmits).toBe(0);
  });

  it('a long command is kept alive by pending notices (no give-up), and executes once', async () => {
    // Without notices the host would give up after 50 + 100 + 100 ms of silence; the card takes 600 ms.
    h = await openHarness({ timeouts: { transmit: NEVER }, maxRetransmits: 2, rtoMaxMs: 100 });
    const executed = countExecutions(h.reader);
    await h.host.powerOn(1);
    h.reader.transmitDelayMs = 600;
    expect(hex(await h.host.transmit(1, apdu(7)))).toBe('00079000');
    expect([...executed.values()]).toEqual([1]);
    expect(h.host.counters.pendingNotices).toBeGreaterThanOrEqual(1);
    expect(h.host.counters.retransmitFailures).toBe(0);
  });

  it('a repeat of a request the device still executes gets a pending notice at once, and one answer', async () => {
    const [hostLink, deviceLink] = createLinkPair();
    const reader = new FakeReader();
    const executed = countExecutions(reader);
    const device = new DeviceSession(deviceLink, reader);
    const enc = new FrameEncoder();
    const dec = new FrameDecoder();
    const inbox: DeviceToHostMessage[] = [];
    hostLink.onData((b) => dec.push(b).forEach((p) => inbox.push(decodeDeviceMessage(p))));
    const about3 = () => inbox.filter((m) => m.kind !== 'event' && m.id === 3).map((m) => m.kind);
    hostLink.write(enc.encode(encodeRequest(1, 'hello', [{ versions: [1], maxFrame: 4096 }])));
    hostLink.write(enc.encode(encodeRequest(2, 'powerOn', [1])));
    await until('hello and powerOn answered', () => inbox.filter((m) => m.kind === 'result').length >= 2);
    // The card holds the transmit until the test lets it go: "while it executes" is a state, not a time.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const execute = reader.transmit.bind(reader);
    reader.transmit = async (slot, a) => {
      const answer = execute(slot, a);
      await held;
      return answer;
    };
    const t = enc.encode(encodeRequest(3, 'transmit', [1, apdu(8)]));
    hostLink.write(t);
    await until('the transmit executing', () => executed.size === 1);
    hostLink.write(t); // a repeat while it executes
    await until('the pending notice', () => about3().includes('pending'));
    release();
    await until('the transmit answered', () => about3().includes('result'));
    hostLink.write(t); // a repeat after the answer
    await until('the answer again', () => about3().filter((k) => k === 'result').length >= 2);
    // The repeat got a notice at once (on a slow machine the periodic 200 ms notice may come too).
    const kinds = about3();
    expect(kinds[0]).toBe('pending');
    expect(kinds.filter((k) => k === 'result')).toHaveLength(2);
    expect(kinds.lastIndexOf('pending')).toBeLessThan(kinds.indexOf('result'));
    expect([...executed.values()]).toEqual([1]);
    expect(device.counters).toMatchObject({ repeatsPending: 1, repeatsAnswered: 1 });
    hostLink.close();
  });

  it('ignores a repeat older than the window (never executes it), and executes an id of the window it never got', async () => {
    const [hostLink, deviceLink] = createLinkPair();
    const reader = new FakeReader();
    const executed = countExecutions(reader);
    const device = new DeviceSession(deviceLink, reader, { maxInFlight: 2 });
    const enc = new FrameEncoder();
    const dec = new FrameDecoder();
    const inbox: DeviceToHostMessage[] = [];
    hostLink.onData((b) => dec.push(b).forEach((p) => inbox.push(decodeDeviceMessage(p))));
    const send = (id: number, n: number) => hostLink.write(enc.encode(encodeRequest(id, 'transmit', [1, apdu(n)])));
    const answered = (id: number) => inbox.some((m) => m.kind === 'result' && m.id === id);
    hostLink.write(enc.encode(encodeRequest(10, 'hello', [{ versions: [1], maxFrame: 4096 }])));
    hostLink.write(enc.encode(encodeRequest(11, 'powerOn', [1])));
    await until('hello and powerOn answered', () => answered(10) && answered(11));
    send(12, 12);
    send(14, 14); // 13 was "lost"
    await until('12 and 14 answered', () => answered(12) && answered(14));
    send(13, 13); // within the window of 2 (14 − 13 < 2): new, executed
    send(12, 12); // 14 − 12 = 2: older than the window: ignored
    await until('13 answered and the stale 12 seen', () => answered(13) && device.counters.repeatsStale >= 1);
    expect([...executed.entries()].map(([k, v]) => [k.slice(-4), v])).toEqual([
      ['000c', 1],
      ['000e', 1],
      ['000d', 1],
    ]);
    expect(device.counters.repeatsStale).toBe(1);
    expect(inbox.filter((m) => m.kind === 'result' && m.id === 12).length).toBe(1);
    hostLink.close();
  });

  it('a new hello starts a new connection: ids start over (a restarted host reusing id 2 is not a repeat)', async () => {
    const [hostLink, deviceLink] = createLinkPair();
    const reader = new FakeReader();
    const executed = countExecutions(reader);
    new DeviceSession(deviceLink, reader);
    const enc = new FrameEncoder();
    const dec = new FrameDecoder();
    const inbox: DeviceToHostMessage[] = [];
    hostLink.onData((b) => dec.push(b).forEach((p) => inbox.push(decodeDeviceMessage(p))));
    for (const [round, n] of [40, 41].entries()) {
      hostLink.write(enc.encode(encodeRequest(1, 'hello', [{ versions: [1], maxFrame: 4096 }])));
      hostLink.write(enc.encode(encodeRequest(2, 'powerOn', [1])));
      hostLink.write(enc.encode(encodeRequest(3, 'transmit', [1, apdu(n)])));
      await until(`the transmit of connection ${round + 1} answered`, () => inbox.filter((m) => m.kind === 'result' && m.id === 3).length > round);
    }
    const answers = inbox.filter((m): m is Extract<DeviceToHostMessage, { kind: 'result' }> => m.kind === 'result' && m.id === 3);
    expect(answers.map((m) => hex(m.fields.rapdu as Uint8Array))).toEqual(['00289000', '00299000']);
    expect(executed.size).toBe(2);
    hostLink.close();
  });

  it('pipelined requests with every answer of the first round lost: all complete, each executed once, none pushed out of the window', async () => {
    h = await openHarness({ timeouts: { transmit: NEVER }, maxInFlight: 4 });
    const executed = countExecutions(h.reader);
    await h.host.powerOn(1);
    const tap = dropFirst('device', (p) => deviceMessage(p)?.kind === 'result', 3);
    h.setTap(tap);
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => h!.host.transmit(1, apdu(100 + i))));
    expect(answers.map(hex)).toEqual(Array.from({ length: 24 }, (_, i) => hex(apdu(100 + i)).slice(10) + '9000'));
    expect(tap.dropped).toBe(3);
    expect([...executed.values()].every((n) => n === 1)).toBe(true);
    expect(executed.size).toBe(24);
    expect(h.device.counters.repeatsStale).toBe(0);
    expect(h.device.counters.busy).toBe(0);
  });

  it('random loss of 10% of the frames both ways: 150 transmits all correct, each executed exactly once', async () => {
    h = await openHarness({ timeouts: { transmit: NEVER, ping: NEVER }, maxInFlight: 4, maxRetransmits: 8, maxQueue: 256 });
    const executed = countExecutions(h.reader);
    await h.host.powerOn(1);
    let x = 12345;
    const rand = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
    h.setTap((p) => (rand() < 0.1 ? null : p));
    const answers = await Promise.all(Array.from({ length: 150 }, (_, i) => h!.host.transmit(1, apdu(1000 + i))));
    h.setTap(undefined);
    expect(answers.map(hex)).toEqual(Array.from({ length: 150 }, (_, i) => hex(apdu(1000 + i)).slice(10) + '9000'));
    expect(executed.size).toBe(150);
    expect([...executed.values()].filter((n) => n !== 1)).toEqual([]);
    expect(h.host.counters.retransmits).toBeGreaterThan(0);
  });

  it('deviceReset whose answer is lost: the repeat meets a device that already reset (NOT_READY), which counts as done', async () => {
    h = await openHarness({ timeouts: { deviceReset: NEVER } });
    h.setTap(dropFirst('device', (p) => deviceMessage(p)?.kind === 'result'));
    await h.host.deviceReset();
    h.setTap(undefined);
    await h.host.ping();
    expect(h.reader.calls.filter((c) => c === 'hello').length).toBe(2);
  });
});

describe('events lost on the line', () => {
  it('a lost event is noticed at the next event (eventGap), and a lost last event at the next ping (nextEvent)', async () => {
    h = await openHarness();
    const gaps: EventGap[] = [];
    h.host.on('eventGap', (g) => gaps.push(g));
    const seen: unknown[] = [];
    h.host.on('event', (e) => seen.push(e));
    h.setTap(dropFirst('device', (p) => deviceMessage(p)?.kind === 'event'));
    h.device.emit({ type: 'card.removed', slot: 1 }); // lost
    h.device.emit({ type: 'card.inserted', slot: 1 });
    await h.host.ping();
    expect(seen).toEqual([{ type: 'card.inserted', slot: 1 }]);
    expect(gaps).toEqual([{ expected: 0, received: 1, lost: 1 }]);
    // The last event of a burst is lost: no later event shows the gap, the ping's nextEvent does.
    h.setTap(dropFirst('device', (p) => deviceMessage(p)?.kind === 'event'));
    h.device.emit({ type: 'card.removed', slot: 1 });
    await h.host.ping();
    expect(gaps).toEqual([
      { expected: 0, received: 1, lost: 1 },
      { expected: 2, received: 3, lost: 1 },
    ]);
    expect(h.host.counters).toMatchObject({ eventGaps: 2, eventsLost: 2 });
    await h.host.ping();
    expect(gaps.length).toBe(2); // in step again
  });

  it('a repeated (stale) ping answer does not fake a gap', async () => {
    h = await openHarness({ timeouts: { ping: NEVER } });
    const gaps: EventGap[] = [];
    h.host.on('eventGap', (g) => gaps.push(g));
    // The ping answer (nextEvent 0) is held back; an event goes out; the repeat of the ping is
    // answered from the window with the same stale nextEvent 0 — behind the host, so no gap.
    h.setTap(dropFirst('device', (p) => deviceMessage(p)?.kind === 'result'));
    const ping = h.host.ping();
    h.device.emit({ type: 'qr.scanned', text: 'x' });
    await ping;
    await h.host.ping();
    expect(gaps).toEqual([]);
  });
});

describe('the secure channel survives lost records', () => {
  it('lost records both ways (request, answer): retransmitted as fresh records, the channel stays open, executed once', async () => {
    h = await openHarness({ trust: trust(), timeouts: { transmit: NEVER } }, secureDevice);
    expect(h.host.secureChannel.state).toBe('open');
    const executed = countExecutions(h.reader);
    await h.host.powerOn(1);
    const records = (from: 'host' | 'device') => dropFirst(from, (p) => p[0] === RECORD_MARKER);
    h.setTap(records('host'));
    expect(hex(await h.host.transmit(1, apdu(20)))).toBe('00149000');
    h.setTap(records('device'));
    expect(hex(await h.host.transmit(1, apdu(21)))).toBe('00159000');
    h.setTap(undefined);
    expect(hex(await h.host.transmit(1, apdu(22)))).toBe('00169000');
    expect([...executed.values()]).toEqual([1, 1, 1]);
    expect(h.host.closed).toBe(false);
    expect(h.device.secure).toBe(true);
    expect(h.host.secureChannel.records?.counters.skipped).toBe(1); // the device's lost answer record
    expect(h.device.records?.counters.skipped).toBe(1); // the host's lost request record
  });

  it('every handshake message lost once (hello, scOpen, scFinish and their answers): the channel still opens', async () => {
    for (const [side, op] of [
      ['host', 'hello'],
      ['device', 'hello'],
      ['host', 'scOpen'],
      ['device', 'scOpen'],
      ['host', 'scFinish'],
      ['device', 'scFinish'],
    ] as const) {
      const { hostLink, deviceLink, setTap } = linkWithTap();
      const device = new DeviceSession(deviceLink, new FakeReader(), secureDevice);
      // Requests by op; answers by the id of the request of that op.
      let id: number | undefined;
      let dropped = 0;
      setTap((p, from) => {
        if (from === 'host' && p[0] !== RECORD_MARKER && isRequest(p, op)) id = decodeRequest(p).id;
        if (dropped === 0 && from === side && p[0] !== RECORD_MARKER) {
          const hit = side === 'host' ? isRequest(p, op) : (() => { const m = deviceMessage(p); return m?.kind === 'result' && m.id === id; })();
          if (hit) {
            dropped++;
            return null;
          }
        }
        return p;
      });
      const host = await HostSession.open(hostLink, { keepaliveMs: 0, trust: trust() });
      expect(dropped, `${side} ${op}`).toBe(1);
      expect(host.secureChannel.state, `${side} ${op}`).toBe('open');
      await host.powerOn(1);
      expect(hex(await host.transmit(1, apdu(30))), `${side} ${op}`).toBe('001e9000');
      expect(device.secure).toBe(true);
      expect(device.counters.secureTeardowns, `${side} ${op}`).toBe(0);
      await host.close();
    }
  });

  it('random loss of 10% of the records both ways: every answer correct, each executed once, the channel never torn down', async () => {
    h = await openHarness({ trust: trust(), timeouts: { transmit: NEVER }, maxInFlight: 4, maxRetransmits: 8, maxQueue: 256 }, secureDevice);
    const executed = countExecutions(h.reader);
    await h.host.powerOn(1);
    let x = 777;
    const rand = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
    h.setTap((p) => (rand() < 0.1 ? null : p));
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => h!.host.transmit(1, apdu(2000 + i))));
    h.setTap(undefined);
    expect(answers.map(hex)).toEqual(Array.from({ length: 100 }, (_, i) => hex(apdu(2000 + i)).slice(10) + '9000'));
    expect([...executed.values()].filter((n) => n !== 1)).toEqual([]);
    expect(h.device.counters.secureTeardowns).toBe(0);
    expect(h.host.closed).toBe(false);
  });
});
