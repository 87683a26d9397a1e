import { afterEach, describe, expect, it } from 'vitest';
import { DeviceError } from '../../../protocol/device-error.ts';
import { DeviceSession } from '../../../protocol/device-session.ts';
import { FrameEncoder } from '../../../protocol/framing.ts';
import { HostSession } from '../../../protocol/host-session.ts';
import { createLinkPair } from '../../../protocol/link.ts';
import { decodeDeviceMessage, encodeRequest } from '../../../protocol/messages.ts';
import { ProtocolError } from '../../../protocol/protocol-errors.ts';
import { FAKE_ATR, FakeReader } from './fake-reader.ts';
import { openHarness, SELECT_MF, type Harness } from './session-harness.ts';
import { until } from '../../support/until.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.host.close();
  h = undefined;
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('HostSession over a link pair', () => {
  it('says hello and negotiates frame size and in-flight limit', async () => {
    h = await openHarness({ host: 'test host' });
    expect(h.host.deviceHello).toMatchObject({ version: 1, vendor: 'Yika', serial: 'FAKE-0001', maxInFlight: 4, secureChannel: 'none' });
    expect(h.host.secureChannel.state).toBe('off');
    expect(h.device.isReady).toBe(true);
  });

  it('runs every operation', async () => {
    h = await openHarness();
    const { host } = h;
    expect(await host.slotStatus()).toEqual([{ slot: 1, card: 'present' }, { slot: 2, card: 'absent' }, { slot: 0x11, card: 'present' }]);
    const on = await host.powerOn(1);
    expect(hex(on.atr)).toBe(hex(FAKE_ATR));
    expect(on.protocol).toBe(1);
    expect(hex(await host.transmit(1, SELECT_MF))).toBe('3f009000');
    expect(await host.setParams(1, { protocol: 0 })).toEqual({ protocol: 0, fi: 372, di: 1 });
    expect((await host.resetCard(1)).protocol).toBe(0);
    const batch = await host.transmitBatch(1, [{ apdu: SELECT_MF }, { apdu: Uint8Array.of(0, 0xb0, 0xff, 0, 0) }, { apdu: SELECT_MF }]);
    expect(batch.stoppedAt).toBe(1);
    expect(batch.responses.map(hex)).toEqual(['3f009000', '6a82']);
    await host.ping();
    const info = await host.deviceInfo();
    expect(info.counters.transmits).toBeGreaterThan(0);
    await host.powerOff(1);
    expect((await host.slotStatus(1))[0].card).toBe('present');
    await host.deviceReset();
    expect(h.reader.calls.filter((c) => c === 'hello').length).toBe(2);
    expect(await host.slotStatus(0x11)).toEqual([{ slot: 0x11, card: 'present' }]);
  });

  it('raises device errors as DeviceError with the DEVICE_ERRORS name', async () => {
    h = await openHarness();
    await expect(h.host.powerOn(9)).rejects.toMatchObject({ code: 'BAD_SLOT', wire: 10 });
    await expect(h.host.powerOn(2)).rejects.toBeInstanceOf(DeviceError);
    await expect(h.host.transmit(1, SELECT_MF)).rejects.toMatchObject({ code: 'CARD_NOT_POWERED' });
  });

  it('fails the in-flight transmit with CARD_REMOVED when the card is pulled', async () => {
    h = await openHarness();
    await h.host.powerOn(1);
    h.reader.removeDuringTransmit = 1;
    await expect(h.host.transmit(1, SELECT_MF)).rejects.toMatchObject({ code: 'CARD_REMOVED' });
    await expect(h.host.transmit(1, SELECT_MF)).rejects.toMatchObject({ code: 'NO_CARD' });
  });

  it('times out a request the device never answers, and stays usable', async () => {
    h = await openHarness({ timeouts: { transmit: 60 } });
    await h.host.powerOn(1);
    h.reader.hangTransmit = true;
    await expect(h.host.transmit(1, SELECT_MF)).rejects.toMatchObject({ code: 'PROTOCOL_TIMEOUT' });
    expect(h.host.counters.timeouts).toBe(1);
    await h.host.ping(); // answered out of band while the device is stuck
    expect(h.host.closed).toBe(false);
  });

  it('cancels queued and in-flight requests with an AbortSignal, and drops the late answer', async () => {
    h = await openHarness({ maxInFlight: 1 });
    await h.host.powerOn(1);
    h.reader.transmitDelayMs = 40;
    const inflight = new AbortController();
    const queued = new AbortController();
    const p1 = h.host.transmit(1, SELECT_MF, { signal: inflight.signal });
    const p2 = h.host.transmit(1, SELECT_MF, { signal: queued.signal });
    queued.abort();
    inflight.abort();
    await expect(p1).rejects.toMatchObject({ code: 'PROTOCOL_CANCELLED' });
    await expect(p2).rejects.toMatchObject({ code: 'PROTOCOL_CANCELLED' });
    const already = new AbortController();
    already.abort();
    await expect(h.host.ping({ signal: already.signal })).rejects.toMatchObject({ code: 'PROTOCOL_CANCELLED' });
    expect(hex(await h.host.transmit(1, SELECT_MF))).toBe('3f009000');
    expect(h.host.counters.lateResponses).toBe(1);
    expect(h.reader.calls.filter((c) => c === 'transmit').length).toBe(2); // the queued one was never sent
  });

  it('keeps at most maxInFlight requests outstanding and answers every one in order', async () => {
    h = await openHarness({ maxInFlight: 3 });
    await h.host.powerOn(1);
    h.reader.transmitDelayMs = 2;
    const apdus = Array.from({ length: 30 }, (_, i) => Uint8Array.of(0, 0xb0, 0, 0, 1, i));
    const answers = await Promise.all(apdus.map((a) => h!.host.transmit(1, a)));
    expect(answers.map((a) => a[0])).toEqual(apdus.map((_, i) => i));
    expect(h.device.counters.busy).toBe(0);
  });

  it('bounds the queue: beyond maxQueue calls fail at once with PROTOCOL_QUEUE_FULL', async () => {
    h = await openHarness({ maxInFlight: 1, maxQueue: 2 });
    await h.host.powerOn(1);
    h.reader.transmitDelayMs = 20;
    const ps = [0, 1, 2, 3].map(() => h!.host.transmit(1, SELECT_MF));
    await expect(ps[3]).rejects.toMatchObject({ code: 'PROTOCOL_QUEUE_FULL' });
    await Promise.all(ps.slice(0, 3));
  });

  it('fails every pending request with LINK_CLOSED when the link drops, and later calls too', async () => {
    h = await openHarness({ maxInFlight: 1 });
    await h.host.powerOn(1);
    h.reader.hangTransmit = true;
    const closed = new Promise((r) => h!.host.once('close', r));
    const pending = [h.host.transmit(1, SELECT_MF), h.host.transmit(1, SELECT_MF), h.host.deviceInfo()];
    setTimeout(() => h!.deviceLink.close('unplugged'), 10);
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    expect(await closed).toMatchObject({ code: 'LINK_CLOSED' });
    await expect(h.host.ping()).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    expect(h.host.pendingRequests).toBe(0);
  });

  it('delivers events in order, including those sent right after hello', async () => {
    const reader = new FakeReader();
    const [hostLink, deviceLink] = createLinkPair({ chunkSize: 7 });
    const device = new DeviceSession(deviceLink, reader);
    const origHello = reader.hello.bind(reader);
    reader.hello = async (r) => {
      const hello = await origHello(r);
      setImmediate(() => device.emit({ type: 'card.inserted', slot: 1 }));
      return hello;
    };
    const host = await HostSession.open(hostLink, { keepaliveMs: 0 });
    const seen: unknown[] = [];
    host.on('event', (e) => seen.push(e));
    for (let i = 0; i < 200; i++) device.emit(i % 2 ? { type: 'card.removed', slot: 1 } : { type: 'qr.scanned', text: `QR${i}` });
    await host.ping();
    expect(seen.length).toBe(201);
    expect(seen[0]).toEqual({ type: 'card.inserted', slot: 1 });
    expect(seen[1]).toEqual({ type: 'qr.scanned', text: 'QR0' });
    expect(seen[200]).toEqual({ type: 'card.removed', slot: 1 });
    expect(host.counters.eventGaps).toBe(0);
    await host.close();
  });

  it('pings an idle device and declares a silent one dead', async () => {
    // A generous ping timeout: a loaded machine may delay an answer, never lose it (no timed assertions).
    h = await openHarness({ keepaliveMs: 20, pingTimeoutMs: 400 });
    await until('two pings', () => h!.host.counters.pings >= 2, 2000, 10).catch(() => undefined); // the expect below says what is missing
    expect(h.host.counters.pings).toBeGreaterThan(0);
    expect(h.host.closed).toBe(false);
    h.reader.hangPing = true;
    const err = await new Promise((r) => h!.host.once('close', r));
    expect(err).toMatchObject({ code: 'PROTOCOL_PEER_DEAD' });
    expect(h.hostLink.closed).toBe(true);
  });

  it('survives line noise between requests (resync) and counts it', async () => {
    h = await openHarness();
    h.hostLink.write(Uint8Array.of(0x42, 0x13, 0x00, 0x07, 0x01, 0x00));
    await h.host.ping();
    expect(h.device.counters.cobsErrors + h.device.counters.crcErrors + h.device.counters.shortFrames).toBeGreaterThan(0);
    expect(hex(await h.host.slotStatus(2).then(() => Uint8Array.of(1)))).toBe('01');
  });

  it('refuses to open against a device with no common version', async () => {
    const [hostLink, deviceLink] = createLinkPair();
    new DeviceSession(deviceLink, new FakeReader(), { versions: [2] });
    await expect(HostSession.open(hostLink, { keepaliveMs: 0 })).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
    expect(hostLink.closed).toBe(true);
  });

  it('times out open against a silent peer instead of hanging', async () => {
    const [hostLink] = createLinkPair();
    await expect(HostSession.open(hostLink, { timeouts: { hello: 50 } })).rejects.toBeInstanceOf(ProtocolError);
  });
});

describe('DeviceSession rules', () => {
  async function raw(device: (link: ReturnType<typeof createLinkPair>[1]) => void) {
    const [hostLink, deviceLink] = createLinkPair();
    device(deviceLink);
    const enc = new FrameEncoder();
    const { FrameDecoder } = await import('../../../protocol/framing.ts');
    const dec = new FrameDecoder();
    const inbox: ReturnType<typeof decodeDeviceMessage>[] = [];
    hostLink.onData((b) => dec.push(b).forEach((p) => inbox.push(decodeDeviceMessage(p))));
    const send = (bytes: Uint8Array) => hostLink.write(enc.encode(bytes));
    /** Waits until `count` answers (pending notices aside) have arrived. */
    const answers = (count: number) => until(`${count} answers from the device`, () => inbox.filter((m) => m.kind !== 'pending').length >= count);
    return { send, inbox, answers, hostLink };
  }

  it('answers NOT_READY before hello, UNKNOWN_OPERATION and BAD_REQUEST with the request id', async () => {
    const t = await raw((l) => new DeviceSession(l, new FakeReader()));
    t.send(encodeRequest(1, 'slotStatus', []));
    const { pack } = await import('msgpackr');
    t.send(pack({ id: 2, op: 'format' }));
    t.send(pack({ id: 3, op: 'powerOn', slot: 'one' }));
    t.send(pack([1, 2, 3]));
    await t.answers(4);
    expect(t.inbox).toEqual([
      expect.objectContaining({ kind: 'error', id: 1, name: 'NOT_READY' }),
      expect.objectContaining({ kind: 'error', id: 2, name: 'UNKNOWN_OPERATION' }),
      expect.objectContaining({ kind: 'error', id: 3, name: 'BAD_REQUEST' }),
      expect.objectContaining({ kind: 'error', id: 0, name: 'BAD_REQUEST' }),
    ]);
    t.hostLink.close();
  });

  it('answers BUSY beyond its queue, and INTERNAL without the message for a handler bug', async () => {
    const reader = new FakeReader();
    reader.transmitDelayMs = 30;
    reader.deviceInfo = async () => {
      throw new Error('secret internals');
    };
    const t = await raw((l) => new DeviceSession(l, reader, { maxInFlight: 2 }));
    t.send(encodeRequest(1, 'hello', [{ versions: [1], maxFrame: 4096 }]));
    await t.answers(1);
    t.send(encodeRequest(2, 'powerOn', [1]));
    t.send(encodeRequest(3, 'deviceInfo', []));
    await t.answers(3);
    for (let id = 10; id < 14; id++) t.send(encodeRequest(id, 'transmit', [1, SELECT_MF]));
    await t.answers(7); // two results, two BUSY
    const err = t.inbox.find((m) => m.kind === 'error' && m.id === 3);
    expect(err).toMatchObject({ name: 'INTERNAL' });
    expect(JSON.stringify(err)).not.toContain('secret');
    const busy = t.inbox.filter((m) => m.kind === 'error' && m.name === 'BUSY').map((m) => (m as { id: number }).id);
    expect(busy).toEqual([12, 13]);
    t.hostLink.close();
  });

  it('reports an oversize frame once for id 0 (FRAME_TOO_LARGE) and stays in sync', async () => {
    const t = await raw((l) => new DeviceSession(l, new FakeReader(), { maxFrame: 1024 }));
    t.send(encodeRequest(1, 'hello', [{ versions: [1], maxFrame: 4096 }]));
    await t.answers(1);
    const { pack } = await import('msgpackr');
    t.send(pack({ id: 2, op: 'ping', pad: Buffer.alloc(2000) }));
    t.send(encodeRequest(3, 'ping', []));
    await t.answers(3);
    expect(t.inbox.map((m) => ('id' in m ? [m.id, m.kind, m.kind === 'error' ? m.name : ''] : []))).toEqual([
      [1, 'result', ''],
      [0, 'error', 'FRAME_TOO_LARGE'],
      [3, 'result', ''],
    ]);
    t.hostLink.close();
  });

  it('drops events before hello', async () => {
    const [, deviceLink] = createLinkPair();
    const d = new DeviceSession(deviceLink, new FakeReader());
    expect(d.emit({ type: 'card.inserted', slot: 1 })).toBe(false);
    expect(d.counters.eventsDropped).toBe(1);
    deviceLink.close();
  });
});

describe('host session: a record left over from an earlier connection on the same line', () => {
  it('is ignored (and counted) before this session opened a channel, instead of closing the session', async () => {
    const [host, device] = createLinkPair();
    new DeviceSession(device, new FakeReader());
    const opening = HostSession.open(host, { keepaliveMs: 0 });
    // A late repeat of the last answer of the previous session's channel, arriving while we say hello.
    const stray = new Uint8Array(1 + 8 + 10 + 16).fill(0x42);
    stray[0] = 0xc1;
    device.write(new FrameEncoder(4096).encode(stray));
    const s = await opening;
    await s.ping();
    expect(s.closed).toBe(false);
    expect(s.counters.strayRecords).toBe(1);
    await s.close();
    host.close();
  });
});
