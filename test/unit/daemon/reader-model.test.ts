import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../daemon/events/event-bus.ts';
import type { DeliveredEvent } from '../../../daemon/events/event-types.ts';
import { Metrics } from '../../../daemon/metrics/metrics.ts';
import { ReaderRegistry } from '../../../daemon/readers/reader-registry.ts';
import { ReaderLock } from '../../../daemon/readers/reader-lock.ts';
import { EchoCard } from './echo-card.ts';
import { attachSettled, simReaderDevice } from './sim-reader-device.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

async function setup(lockTimeoutMs = 5000) {
  const events = new EventBus();
  const seen: DeliveredEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const metrics = new Metrics();
  const registry = new ReaderRegistry({ events, metrics, lockTimeoutMs, trace: { enabled: true, maskData: false } });
  const { device, sim } = await simReaderDevice();
  await attachSettled(registry, device);
  return { events, seen, metrics, registry, sim, reader: registry.get('sim-1') };
}

describe('ReaderLock', () => {
  it('grants in FIFO order and fails a waiter with READER_BUSY after its timeout', async () => {
    const lock = new ReaderLock('r', 50);
    const order: number[] = [];
    let release!: () => void;
    const first = lock.run('first', () => new Promise<void>((r) => (release = r)));
    const waiters = [1, 2, 3].map((i) => lock.run(`w${i}`, async () => void order.push(i), 5000));
    const late = lock.run('late', async () => 'never', 30);
    await expect(late).rejects.toMatchObject({ code: 'READER_BUSY', details: { heldBy: 'first' } });
    expect(lock.waiting).toBe(3);
    release();
    await first;
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(lock.heldBy).toBeUndefined();
  });

  it('releases the lock when the operation throws', async () => {
    const lock = new ReaderLock('r', 100);
    await expect(lock.run('bad', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(lock.run('next', async () => 7)).resolves.toBe(7);
  });
});

describe('Reader model over the simulated reader', () => {
  it('lists the reader with a stable short id, its slots and card states, and publishes card events', async () => {
    const { registry, sim, seen, reader } = await setup();
    expect(registry.list().map((r) => r.id)).toEqual(['sim-1']);
    const model = reader.toJSON();
    expect(model).toMatchObject({ id: 'sim-1', kind: 'sim', vendor: 'Yika', health: 'ok', batch: { supported: true, max: 64 } });
    expect(model.slots.map((s) => [s.slot, s.kind, s.label, s.card])).toEqual([
      [1, 'contact', 'user card', 'absent'],
      [2, 'contactless', 'contactless', 'absent'],
      [0x11, 'sam', 'SAM1', 'absent'],
      [0x12, 'sam', 'SAM2', 'absent'],
      [0x13, 'sam', 'SAM3', 'absent'],
      [0x14, 'sam', 'SAM4', 'absent'],
    ]);
    sim.insertCard(1, new EchoCard());
    expect(reader.toJSON().slots[0].card).toBe('present');
    const atr = await reader.session('t', (s) => s.ensurePowered(1));
    expect(Buffer.from(atr).toString('hex')).toBe('3b021450');
    expect(reader.toJSON().slots[0]).toMatchObject({ card: 'powered', atr: '3B021450', protocol: 0 });
    sim.removeCard(1);
    expect(reader.toJSON().slots[0].card).toBe('absent');
    expect(seen.map((e) => e.type)).toEqual(['reader.attached', 'reader.health', 'card.inserted', 'card.removed']);
    expect(seen[2]).toMatchObject({ readerId: 'sim-1', slot: 1 });
    expect(() => registry.get('nope')).toThrow(expect.objectContaining({ code: 'READER_NOT_FOUND' }));
  });

  it('keeps the id across detach/attach and reports offline in between', async () => {
    const { registry, reader, seen } = await setup();
    registry.detached('sim', 'test-1', 'unplugged');
    expect(reader.toJSON()).toMatchObject({ health: 'offline', healthDetail: 'unplugged' });
    await expect(reader.session('x', (s) => s.powerOn(1))).rejects.toMatchObject({ code: 'READER_OFFLINE' });
    const { device } = await simReaderDevice('test-1');
    registry.attached(device);
    expect(registry.list()).toHaveLength(1);
    expect(registry.get('sim-1')).toBe(reader);
    expect(reader.toJSON().health).toBe('ok');
    expect(seen.filter((e) => e.type === 'reader.detached')).toHaveLength(1);
  });

  it('fails with SLOT_NOT_FOUND for a slot the reader does not have', async () => {
    const { reader } = await setup();
    await expect(reader.session('x', async (s) => s.channel(9))).rejects.toMatchObject({ code: 'SLOT_NOT_FOUND' });
  });

  it('never interleaves the APDUs of 50 concurrent sessions', async () => {
    const { reader, sim } = await setup(30_000);
    const card = new EchoCard();
    sim.insertCard(1, card);
    await reader.session('power', (s) => s.powerOn(1));
    // Each client sends 4 APDUs tagged with its number in P1; they must reach the card in blocks.
    await Promise.all(
      Array.from({ length: 50 }, (_, client) =>
        reader.session(`client ${client}`, async (s) => {
          const ch = s.channel(1, { batch: false });
          for (let k = 0; k < 4; k++) {
            await ch.transmit(Uint8Array.from([0x00, 0xb0, client, k, 0x00]));
            await new Promise((r) => setImmediate(r));
          }
        }),
      ),
    );
    expect(card.seen).toHaveLength(200);
    for (let i = 0; i < 200; i += 4) {
      const clients = card.seen.slice(i, i + 4).map((h) => h.slice(4, 6));
      expect(new Set(clients).size).toBe(1);
      expect(card.seen.slice(i, i + 4).map((h) => h.slice(6, 8))).toEqual(['00', '01', '02', '03']);
    }
  });

  it('fails a channel with CARD_CHANGED once its card was replaced, even if a new card answers', async () => {
    const { reader, sim } = await setup();
    sim.insertCard(1, new EchoCard());
    await expect(
      reader.session('read', async (s) => {
        await s.powerOn(1);
        const ch = s.channel(1);
        await ch.transmit(hex('00B0000000'));
        sim.removeCard(1);
        sim.insertCard(1, new EchoCard());
        await s.powerOn(1);
        return ch.transmit(hex('00B0000000'));
      }),
    ).rejects.toMatchObject({ code: 'CARD_CHANGED' });
  });

  it('uses the device batch and counts link round trips and APDUs', async () => {
    const { reader, sim, metrics } = await setup();
    sim.insertCard(1, new EchoCard());
    const result = await reader.session('batch', async (s) => {
      await s.powerOn(1);
      const ch = s.channel(1);
      expect(ch.transmitBatch).toBeDefined();
      return ch.transmitBatch!(Array.from({ length: 70 }, (_, i) => ({ apdu: Uint8Array.from([0, 0xb2, i, 4, 0]) })));
    });
    expect(result.responses).toHaveLength(70);
    expect(result.stoppedAt).toBeUndefined();
    // 1 power on + 2 batches (64 + 6)
    expect(reader.stats).toEqual({ apdus: 70, roundTrips: 3 });
    expect(metrics.get('yika_apdus_total', { reader: 'sim-1' })).toBe(70);
    expect(metrics.get('yika_link_roundtrips_total', { reader: 'sim-1' })).toBe(3);
  });

  it('traces commands and responses, masking secrets always and data on request', async () => {
    const { reader, sim } = await setup();
    sim.insertCard(1, new EchoCard());
    await reader.session('t', async (s) => {
      await s.powerOn(1);
      const ch = s.channel(1);
      await ch.transmit(hex('0020000003123456'));
      await ch.transmit(hex('00B0000004'));
    });
    expect(reader.trace.text()).toBe(['[01] A>> 00 20 00 00 03 ** ** **', '[01] A<< 90 00', '[01] A>> 00 B0 00 00 04', '[01] A<< 00 B0 00 00 90 00'].join('\n'));
    reader.trace.clear();
    reader.trace.configure({ maskData: true });
    await reader.session('t', (s) => s.channel(1).transmit(hex('00B0000004')));
    expect(reader.trace.text()).toBe('[01] A>> 00 B0 00 00 04\n[01] A<< ** ** ** ** 90 00');
    reader.trace.configure({ enabled: false });
    await reader.session('t', (s) => s.channel(1).transmit(hex('00B0000004')));
    expect(reader.trace.list()).toHaveLength(2);
  });
});
