import { describe, expect, it } from 'vitest';
import { until } from '../../support/until.ts';
import { FaultInjector, checkFault } from '../../../firmware-sim/faults/fault-injector.ts';
import { LinkNoise } from '../../../firmware-sim/faults/link-noise.ts';
import { noisyLink } from '../../../firmware-sim/faults/noisy-link.ts';
import { SimulatedReader } from '../../../firmware-sim/reader/simulated-reader.ts';
import { createLinkPair } from '../../../protocol/link.ts';
import type { DeviceEvent } from '../../../protocol/operations.ts';
import { ScriptedCard, hex, toHex } from './test-cards.ts';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'resolved';
}

function setup(seed = 7) {
  const reader = new SimulatedReader();
  const faults = new FaultInjector(seed);
  const pinned: string[] = [];
  let unplugged = 0;
  let replugged = 0;
  faults.attach({
    reader,
    resetReader: () => reader.deviceReset(),
    unplug: async () => void unplugged++,
    replug: async () => void replugged++,
    insertSamWithPin: (slot, pin) => {
      pinned.push(`${slot}:${pin}`);
      reader.insertCard(slot, new ScriptedCard());
    },
  });
  const card = new ScriptedCard();
  reader.insertCard(1, card);
  const events: DeviceEvent[] = [];
  reader.on((e) => events.push(e));
  return { reader, faults, card, events, pinned, counts: () => ({ unplugged, replugged }) };
}

const SELECT = hex('00A4000000');

describe('card faults', () => {
  it('remove before the 3rd APDU: the 3rd is not executed and fails CARD_REMOVED', async () => {
    const { reader, faults, card, events } = setup();
    await faults.inject({ fault: 'remove-card', slot: 1, when: 'before', apdu: 3 });
    await reader.powerOn(1);
    await reader.transmit(1, SELECT);
    await reader.transmit(1, SELECT);
    expect(await codeOf(reader.transmit(1, SELECT))).toBe('CARD_REMOVED');
    expect(card.processed.length).toBe(2);
    expect(events).toContainEqual({ type: 'card.removed', slot: 1 });
    expect(await codeOf(reader.transmit(1, SELECT))).toBe('NO_CARD');
  });

  it('remove during the 2nd APDU: the card executes it but the response is lost', async () => {
    const { reader, faults, card } = setup();
    await faults.inject({ fault: 'remove-card', slot: 1, when: 'during', apdu: 2 });
    await reader.powerOn(1);
    await reader.transmit(1, SELECT);
    expect(await codeOf(reader.transmit(1, hex('00DC010400')))).toBe('CARD_REMOVED');
    expect(card.processed.length).toBe(2);
  });

  it('remove after the 1st APDU: its response arrives, then card.removed', async () => {
    const { reader, faults, events } = setup();
    await faults.inject({ fault: 'remove-card', slot: 1, when: 'after', apdu: 1 });
    await reader.powerOn(1);
    expect(toHex(await reader.transmit(1, SELECT))).toBe('9000');
    await new Promise((r) => setImmediate(r));
    expect(events.at(-1)).toEqual({ type: 'card.removed', slot: 1 });
  });

  it('remove during a batch fails the whole batch with CARD_REMOVED', async () => {
    const { reader, faults } = setup();
    await faults.inject({ fault: 'remove-card', slot: 1, when: 'after', apdu: 2 });
    await reader.powerOn(1);
    expect(await codeOf(reader.transmitBatch(1, [SELECT, SELECT, SELECT].map((apdu) => ({ apdu }))))).toBe('CARD_REMOVED');
  });

  it('a seeded random removal point is the same for the same seed and within range', async () => {
    const points = async (seed: number) => {
      const { faults } = setup(seed);
      await faults.inject({ fault: 'remove-card', slot: 1, apdu: 'random', maxApdu: 50 });
      await faults.inject({ fault: 'remove-card', slot: 1, apdu: 'random', maxApdu: 50 });
      return faults.pendingRemovals().map((r) => r.apdu);
    };
    const a = await points(42);
    expect(await points(42)).toEqual(a);
    for (const n of a) expect(n).toBeGreaterThanOrEqual(1);
    for (const n of a) expect(n).toBeLessThanOrEqual(50);
    const others = await Promise.all([1, 2, 3, 4, 5].map(points));
    expect(others.some((o) => o.join() !== a.join())).toBe(true);
  });

  it('mute at the 2nd APDU → CARD_MUTE, and stays mute', async () => {
    const { reader, faults } = setup();
    await faults.inject({ fault: 'mute-card', slot: 1, apdu: 2 });
    await reader.powerOn(1);
    await reader.transmit(1, SELECT);
    expect(await codeOf(reader.transmit(1, SELECT))).toBe('CARD_MUTE');
    expect(await codeOf(reader.transmit(1, SELECT))).toBe('CARD_MUTE');
    expect((await reader.slotStatus(1))[0].card).toBe('mute');
  });

  it('slow card adds modelled time per APDU; 0 clears it', async () => {
    const { reader, faults } = setup();
    await reader.powerOn(1);
    await reader.transmit(1, SELECT);
    const normal = reader.lastOperationTime()!.totalUs;
    await faults.inject({ fault: 'slow-card', slot: 1, extraMs: 250 });
    await reader.transmit(1, SELECT);
    expect(reader.lastOperationTime()!.totalUs - normal).toBeCloseTo(250_000, 3);
    await faults.inject({ fault: 'slow-card', slot: 1, extraMs: 0 });
    await reader.transmit(1, SELECT);
    expect(reader.lastOperationTime()!.totalUs).toBeCloseTo(normal, 3);
  });
});

describe('device faults', () => {
  it('reset-reader powers the card down', async () => {
    const { reader, faults } = setup();
    await reader.powerOn(1);
    await faults.inject({ fault: 'reset-reader' });
    expect(await codeOf(reader.transmit(1, SELECT))).toBe('CARD_NOT_POWERED');
  });

  it('sam-missing removes the SAM; wrong-sam-pin swaps in a SAM with another PIN', async () => {
    const { reader, faults, events, pinned } = setup();
    reader.insertCard(0x11, new ScriptedCard());
    await faults.inject({ fault: 'sam-missing' });
    expect(events).toContainEqual({ type: 'card.removed', slot: 0x11 });
    expect(await codeOf(reader.powerOn(0x11))).toBe('NO_CARD');
    await faults.inject({ fault: 'wrong-sam-pin', pin: '000000' });
    expect(pinned).toEqual(['17:000000']);
  });

  it('unplug for a time replugs by itself', async () => {
    const { faults, counts } = setup();
    await faults.inject({ fault: 'unplug', forMs: 20 });
    expect(counts()).toEqual({ unplugged: 1, replugged: 0 });
    await until('the replug', () => counts().replugged > 0);
    expect(counts()).toEqual({ unplugged: 1, replugged: 1 });
  });

  it('malformed faults are refused with SIM_BAD_COMMAND', () => {
    for (const bad of [null, {}, { fault: 'explode' }, { fault: 'remove-card', apdu: 0 }, { fault: 'corrupt-bytes', rate: 2 }, { fault: 'remove-card', slot: 9, apdu: 1 }, { fault: 'wrong-sam-pin', pin: '12ab' }]) {
      expect(() => checkFault(bad)).toThrow(expect.objectContaining({ code: 'SIM_BAD_COMMAND' }));
    }
  });
});

describe('link noise', () => {
  const frames = (n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(...Array.from({ length: 30 }, (_, j) => 1 + ((i + j) % 250)), 0);
    return Uint8Array.from(out);
  };

  it('is a no-op at rate 0 and deterministic for a seed', () => {
    const input = frames(200);
    expect(new LinkNoise(3).apply(input)).toBe(input);
    const a = new LinkNoise(3);
    a.settings = { corruptRate: 0.01, dropRate: 0.05 };
    const b = new LinkNoise(3);
    b.settings = { corruptRate: 0.01, dropRate: 0.05 };
    expect(toHex(a.apply(input))).toBe(toHex(b.apply(input)));
  });

  it('corrupts about rate × bytes, never creating or removing a 0x00 delimiter', () => {
    const input = frames(1000);
    const n = new LinkNoise(9);
    n.settings = { corruptRate: 0.01, dropRate: 0 };
    const out = n.apply(input);
    expect(out.length).toBe(input.length);
    expect(out.filter((b) => b === 0).length).toBe(1000);
    const diff = out.reduce((k, b, i) => k + (b !== input[i] ? 1 : 0), 0);
    expect(diff).toBe(n.corrupted);
    expect(diff).toBeGreaterThan(150);
    expect(diff).toBeLessThan(480);
  });

  it('drops whole frames at about the rate, even when a frame spans chunks', () => {
    const input = frames(2000);
    const n = new LinkNoise(11);
    n.settings = { corruptRate: 0, dropRate: 0.1 };
    const parts: Uint8Array[] = [];
    for (let i = 0; i < input.length; i += 7) parts.push(n.apply(input.subarray(i, i + 7)));
    const out = Buffer.concat(parts);
    expect(out.length % 31).toBe(0);
    const kept = out.length / 31;
    expect(kept).toBe(2000 - n.dropped);
    expect(n.dropped).toBeGreaterThan(120);
    expect(n.dropped).toBeLessThan(290);
  });

  it('noisyLink applies the noise to what the device writes', async () => {
    const [device, host] = createLinkPair();
    const f = new FaultInjector(5);
    await f.inject({ fault: 'drop-frames', rate: 1, direction: 'to-host' });
    const wrapped = noisyLink(device, f);
    const got: Uint8Array[] = [];
    host.onData((b) => got.push(b));
    wrapped.write(frames(3));
    host.write(Uint8Array.from([1, 2, 0]));
    const received: Uint8Array[] = [];
    wrapped.onData((b) => received.push(b));
    // The host's frame was written after the device's: once it has arrived, the dropped ones would have too.
    await until('the host frame at the device', () => received.length > 0);
    expect(got.length).toBe(0);
    expect(received.map(toHex)).toEqual(['010200']);
    expect(f.counters()['faults.framesDropped']).toBe(3);
  });
});
