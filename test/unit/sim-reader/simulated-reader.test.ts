import { describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../../protocol/operations.ts';
import { SimulatedReader } from '../../../firmware-sim/reader/simulated-reader.ts';
import { MuteCard, ScriptedCard, TEST_ATR_FAST_T0, hex, toHex } from './test-cards.ts';

function readerWithEvents(options = {}): { reader: SimulatedReader; events: DeviceEvent[] } {
  const reader = new SimulatedReader(options);
  const events: DeviceEvent[] = [];
  reader.on((e) => events.push(e));
  return { reader, events };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'resolved';
}

describe('SimulatedReader: hello and slots', () => {
  it('announces vendor, model, slots and capabilities large enough for extended APDUs', async () => {
    const reader = new SimulatedReader({ serial: 'S-1' });
    const hello = await reader.hello({ versions: [1], maxFrame: 4096 });
    expect(hello).toMatchObject({ version: 1, vendor: 'Yika', model: 'SIM-1', serial: 'S-1', batch: true, qrScanner: true });
    expect(hello.slots.map((s) => s.id)).toEqual([0x01, 0x02, 0x11, 0x12, 0x13, 0x14]);
    expect(hello.slots.map((s) => s.kind)).toEqual(['contact', 'contactless', 'sam', 'sam', 'sam', 'sam']);
    expect(hello.maxFrame).toBeGreaterThanOrEqual(65_544 + 64);
    expect(hello.maxBatch).toBeGreaterThan(1);
  });

  it('refuses a host without protocol version 1', async () => {
    expect(await codeOf(new SimulatedReader().hello({ versions: [2, 3], maxFrame: 100 }))).toBe('UNSUPPORTED_VERSION');
  });

  it('reports BAD_SLOT, NO_CARD and CARD_NOT_POWERED in that order of checks', async () => {
    const reader = new SimulatedReader();
    expect(await codeOf(reader.transmit(0x05, hex('00A4000000')))).toBe('BAD_SLOT');
    expect(await codeOf(reader.powerOn(0x15))).toBe('BAD_SLOT');
    expect(await codeOf(reader.transmit(0x01, hex('00A4000000')))).toBe('NO_CARD');
    reader.insertCard(0x01, new ScriptedCard());
    expect(await codeOf(reader.transmit(0x01, hex('00A4000000')))).toBe('CARD_NOT_POWERED');
    expect(await codeOf(reader.transmit(0x01, hex('00A4')))).toBe('BAD_REQUEST');
  });

  it('emits card.inserted / card.removed and tracks the slot state', async () => {
    const { reader, events } = readerWithEvents();
    reader.insertCard(0x01, new ScriptedCard());
    expect((await reader.slotStatus(0x01))[0].card).toBe('present');
    const on = await reader.powerOn(0x01);
    expect(on.protocol).toBe(0);
    expect(toHex(on.atr)).toBe('3B8C80010102030405060708575331300' + '0');
    const st = (await reader.slotStatus(0x01))[0];
    expect(st).toMatchObject({ slot: 1, card: 'powered', protocol: 0 });
    reader.removeCard(0x01);
    expect((await reader.slotStatus(0x01))[0].card).toBe('absent');
    expect(events).toEqual([
      { type: 'card.inserted', slot: 1 },
      { type: 'card.removed', slot: 1 },
    ]);
    expect((await reader.slotStatus()).length).toBe(6);
  });

  it('inserting over a present card removes it first', () => {
    const { reader, events } = readerWithEvents();
    reader.insertCard(0x11, new ScriptedCard());
    reader.insertCard(0x11, new ScriptedCard());
    expect(events.map((e) => e.type)).toEqual(['card.inserted', 'card.removed', 'card.inserted']);
  });
});

describe('SimulatedReader: transmit', () => {
  it('passes 6Cxx / 61xx through on T=0 (the host does GET RESPONSE)', async () => {
    const reader = new SimulatedReader();
    reader.insertCard(1, new ScriptedCard());
    await reader.powerOn(1);
    expect(toHex(await reader.transmit(1, hex('00B0000000')))).toBe('6C05');
    expect(toHex(await reader.transmit(1, hex('0084000008')))).toBe('6108');
    expect(toHex(await reader.transmit(1, hex('00B2010400')))).toBe('01020304059000');
  });

  it('a mute card fails power-on with CARD_MUTE and reports mute', async () => {
    const reader = new SimulatedReader();
    reader.insertCard(1, new MuteCard());
    expect(await codeOf(reader.powerOn(1))).toBe('CARD_MUTE');
    expect((await reader.slotStatus(1))[0].card).toBe('present');
  });

  it('a card that goes mute fails transmit with CARD_MUTE after the work waiting time (modelled)', async () => {
    const reader = new SimulatedReader();
    reader.insertCard(1, new ScriptedCard());
    await reader.powerOn(1);
    reader.setMute(1, true);
    const before = reader.modelledTimeUs();
    expect(await codeOf(reader.transmit(1, hex('00A4000000')))).toBe('CARD_MUTE');
    // WWT = 960 · 10 · 372 / 4 MHz = 892.8 ms
    expect(reader.modelledTimeUs() - before).toBeGreaterThanOrEqual(892_800);
  });

  it('removing the card during a real-time exchange fails it with CARD_REMOVED at once', async () => {
    const slowCard = new ScriptedCard(undefined, [0, 1], () => ({ response: [0x90, 0x00], kind: 'crypto' }));
    const reader = new SimulatedReader({ speed: 1, timing: { processingUs: { crypto: 5_000_000 } } });
    reader.insertCard(1, slowCard);
    reader.clock.speed = 0;
    await reader.powerOn(1);
    reader.clock.speed = 1;
    const pending = codeOf(reader.transmit(1, hex('0088000000')));
    const settled = Symbol('still pending');
    // Still running (5 s of modelled card time at real speed), then the removal ends it without
    // waiting for that time: behaviour, not a wall-clock bound.
    expect(await Promise.race([pending, new Promise((r) => setImmediate(() => r(settled)))])).toBe(settled);
    reader.removeCard(1);
    expect(await pending).toBe('CARD_REMOVED'); // without the removal it would end after the 5 s with 9000
  });

  it('serialises operations on a slot (one exchange at a time, in order)', async () => {
    const order: string[] = [];
    const card = new ScriptedCard(undefined, [0, 1], (a) => {
      order.push(toHex(a.subarray(0, 4)));
      return { response: [0x90, 0x00] };
    });
    const reader = new SimulatedReader();
    reader.insertCard(1, card);
    await reader.powerOn(1);
    await Promise.all([reader.transmit(1, hex('00010000')), reader.transmit(1, hex('00020000')), reader.transmit(1, hex('00030000'))]);
    expect(order).toEqual(['00010000', '00020000', '00030000']);
  });
});

describe('SimulatedReader: transmitBatch', () => {
  it('runs all commands when every SW is expected', async () => {
    const reader = new SimulatedReader();
    reader.insertCard(1, new ScriptedCard());
    await reader.powerOn(1);
    const r = await reader.transmitBatch(1, [{ apdu: hex('00A4000000') }, { apdu: hex('00B2010400') }]);
    expect(r.stoppedAt).toBeUndefined();
    expect(r.responses.map(toHex)).toEqual(['9000', '01020304059000']);
  });

  it('stops at the first unexpected SW and returns the responses so far including it', async () => {
    const card = new ScriptedCard();
    const reader = new SimulatedReader();
    reader.insertCard(1, card);
    await reader.powerOn(1);
    const r = await reader.transmitBatch(1, [{ apdu: hex('00A4000000') }, { apdu: hex('00DC010400') }, { apdu: hex('00B2010400') }]);
    expect(r.stoppedAt).toBe(1);
    expect(r.responses.map(toHex)).toEqual(['9000', '6982']);
    expect(card.processed.length).toBe(2);
  });

  it('continues on SWs matched by the expect masks', async () => {
    const reader = new SimulatedReader();
    reader.insertCard(1, new ScriptedCard());
    await reader.powerOn(1);
    const r = await reader.transmitBatch(1, [
      { apdu: hex('00DC010400'), expect: [{ sw: 0x6900, mask: 0xff00 }] },
      { apdu: hex('00A4000000'), expect: [{ sw: 0x0000, mask: 0x0000 }] },
      { apdu: hex('00B2010400') },
    ]);
    expect(r.stoppedAt).toBeUndefined();
    expect(r.responses.map(toHex)).toEqual(['6982', '9000', '01020304059000']);
  });

  it('stops at 61xx and 6Cxx whatever expect says (T=0: the next command would destroy the pending answer)', async () => {
    const card = new ScriptedCard();
    const reader = new SimulatedReader();
    reader.insertCard(1, card);
    await reader.powerOn(1);
    const any = [{ sw: 0x0000, mask: 0x0000 }];
    const a = await reader.transmitBatch(1, [{ apdu: hex('0084000008'), expect: [{ sw: 0x6100, mask: 0xff00 }] }, { apdu: hex('00A4000000'), expect: any }]);
    expect(a).toEqual({ responses: [hex('6108')], stoppedAt: 0 });
    const b = await reader.transmitBatch(1, [{ apdu: hex('00A4000000') }, { apdu: hex('00B0000000'), expect: any }, { apdu: hex('00A4000000'), expect: any }]);
    expect(b).toEqual({ responses: [hex('9000'), hex('6C05')], stoppedAt: 1 });
    // The last command of a batch is marked too: the host sees the stop and knows to repair it.
    const c = await reader.transmitBatch(1, [{ apdu: hex('00A4000000') }, { apdu: hex('0084000008'), expect: any }]);
    expect(c.stoppedAt).toBe(1);
    expect(card.processed.map(toHex)).toEqual(['0084000008', '00A4000000', '00B0000000', '00A4000000', '0084000008']);
  });

  it('refuses more than maxBatch commands', async () => {
    const reader = new SimulatedReader({ maxBatch: 2 });
    reader.insertCard(1, new ScriptedCard());
    await reader.powerOn(1);
    const cmds = [0, 1, 2].map(() => ({ apdu: hex('00A4000000') }));
    expect(await codeOf(reader.transmitBatch(1, cmds))).toBe('BATCH_TOO_LONG');
  });

  it('charges one host round trip per batch, not one per command', async () => {
    const reader = new SimulatedReader({ timing: { hostLink: { kind: 'uart', baud: 115_200 } } });
    reader.insertCard(1, new ScriptedCard());
    await reader.powerOn(1);
    const cmds = Array.from({ length: 10 }, () => ({ apdu: hex('00A4000000') }));
    reader.resetModelledTime();
    for (const c of cmds) await reader.transmit(1, c.apdu);
    const single = reader.modelledTime();
    reader.resetModelledTime();
    await reader.transmitBatch(1, cmds);
    const batch = reader.modelledTime();
    expect(batch.cardIoUs).toBeCloseTo(single.cardIoUs, 6);
    expect(batch.processingUs).toBe(single.processingUs);
    expect(batch.hostLinkUs).toBeLessThan(single.hostLinkUs / 3);
  });
});

describe('SimulatedReader: protocol parameters', () => {
  it('accepts T=1 when the ATR offers it and refuses T=1 on a T=0-only card', async () => {
    const reader = new SimulatedReader();
    reader.insertCard(1, new ScriptedCard());
    await reader.powerOn(1);
    expect(await reader.setParams(1, { protocol: 1 })).toEqual({ protocol: 1, fi: 372, di: 1, clockHz: 4_000_000 });
    expect((await reader.slotStatus(1))[0].protocol).toBe(1);
    reader.insertCard(2, new ScriptedCard(TEST_ATR_FAST_T0, [0]));
    await reader.powerOn(2);
    expect(await codeOf(reader.setParams(2, { protocol: 1 }))).toBe('CARD_PROTOCOL_ERROR');
  });

  it('PPS within TA1 only; Fi/Di outside the ISO tables is BAD_REQUEST', async () => {
    const reader = new SimulatedReader();
    reader.insertCard(1, new ScriptedCard(TEST_ATR_FAST_T0, [0]));
    await reader.powerOn(1);
    expect(await reader.setParams(1, { protocol: 0, fi: 372, di: 4 })).toEqual({ protocol: 0, fi: 372, di: 4, clockHz: 4_000_000 });
    expect(await codeOf(reader.setParams(1, { protocol: 0, fi: 372, di: 8 }))).toBe('CARD_PROTOCOL_ERROR');
    expect(await codeOf(reader.setParams(1, { protocol: 0, fi: 373, di: 1 }))).toBe('BAD_REQUEST');
    // The default card ATR has no TA1: only 372/1.
    reader.insertCard(2, new ScriptedCard());
    await reader.powerOn(2);
    expect(await codeOf(reader.setParams(2, { protocol: 0, fi: 372, di: 2 }))).toBe('CARD_PROTOCOL_ERROR');
  });

  it('a higher Di makes the card interface proportionally faster', async () => {
    const card = new ScriptedCard(TEST_ATR_FAST_T0, [0], () => ({ response: new Array(258).fill(0).map((_, i) => (i < 256 ? 1 : i === 256 ? 0x90 : 0)) }));
    const reader = new SimulatedReader();
    reader.insertCard(1, card);
    await reader.powerOn(1);
    await reader.transmit(1, hex('00B0000000'));
    const slow = reader.lastOperationTime()!.time.cardIoUs;
    await reader.setParams(1, { protocol: 0, fi: 372, di: 4 });
    await reader.transmit(1, hex('00B0000000'));
    const fast = reader.lastOperationTime()!.time.cardIoUs;
    expect(slow / fast).toBeCloseTo(4, 6);
  });

  it('the contactless slot runs T=1 and ISO 14443 timing (106 kbit/s), faster than the contact slot at 372/1', async () => {
    const reader = new SimulatedReader();
    reader.insertCard(1, new ScriptedCard());
    reader.insertCard(2, new ScriptedCard());
    expect((await reader.powerOn(1)).protocol).toBe(0);
    expect((await reader.powerOn(2)).protocol).toBe(1);
    await reader.transmit(1, hex('00B2010400'));
    const contact = reader.lastOperationTime()!.time.cardIoUs;
    await reader.transmit(2, hex('00B2010400'));
    const field = reader.lastOperationTime()!.time.cardIoUs;
    // 5 + 7 bytes + 6 framing = 18 bytes · 9 bits · 128/13.56 MHz + 2 · 1236/13.56 MHz
    expect(field).toBeCloseTo(18 * 9 * (128 / 13.56) + 2 * (1236 / 13.56), 6);
    expect(field).toBeLessThan(contact / 5);
  });

  it('warm reset returns the ATR and goes back to default parameters', async () => {
    const reader = new SimulatedReader();
    reader.insertCard(1, new ScriptedCard(TEST_ATR_FAST_T0, [0]));
    await reader.powerOn(1);
    await reader.setParams(1, { protocol: 0, fi: 372, di: 4 });
    const r = await reader.resetCard(1);
    expect(toHex(r.atr)).toBe('3B901300');
    const info = await reader.deviceInfo();
    expect(info.notes?.join('\n')).toContain('Fi=372 Di=1');
  });
});

describe('SimulatedReader: device', () => {
  it('deviceReset powers every card down and keeps them inserted', async () => {
    const reader = new SimulatedReader();
    let resets = 0;
    reader.onDeviceReset(() => resets++);
    reader.insertCard(1, new ScriptedCard());
    await reader.powerOn(1);
    await reader.deviceReset();
    expect((await reader.slotStatus(1))[0].card).toBe('present');
    expect(resets).toBe(1);
  });

  it('counts operations in deviceInfo, including the modelled time per operation', async () => {
    const reader = new SimulatedReader();
    reader.addCounterSource(() => ({ framesIn: 7 }));
    reader.insertCard(1, new ScriptedCard());
    await reader.powerOn(1);
    await reader.transmit(1, hex('00A4000000'));
    await reader.ping();
    const info = await reader.deviceInfo();
    expect(info.counters).toMatchObject({ apdus: 1, powerOns: 1, pings: 1, cardsInserted: 1, framesIn: 7 });
    expect(info.counters['modelledUs.transmit']).toBeGreaterThan(3000);
    expect(info.counters.modelledUs).toBe(Math.round(reader.modelledTimeUs()));
  });

  it('emits busy around an exchange whose modelled time reaches the threshold', async () => {
    const { reader, events } = readerWithEvents({ busyThresholdUs: 15_000 });
    reader.insertCard(1, new ScriptedCard());
    await reader.powerOn(1);
    await reader.transmit(1, hex('00A4000000'));
    expect(events.filter((e) => e.type === 'busy')).toEqual([]);
    await reader.transmit(1, hex('0084000008'));
    expect(events.filter((e) => e.type === 'busy')).toEqual([
      { type: 'busy', busy: true },
      { type: 'busy', busy: false },
    ]);
  });
});
