// A protocol device told that events were lost (a gap in the event sequence) re-reads the slot states
// and hands the reader model the card events it missed, so that a card.removed lost to line noise
// still ends the old card's session.
import { afterEach, describe, expect, it } from 'vitest';
import { connectProtocolDevice, type ProtocolConnection } from '../../../daemon/devices/protocol-connect.ts';
import type { DeviceCardEvent, LinkLossNotice } from '../../../daemon/devices/reader-device.ts';
import { DeviceSession } from '../../../protocol/device-session.ts';
import { decodeDeviceMessage } from '../../../protocol/messages.ts';
import { FakeReader } from '../protocol/fake-reader.ts';
import { linkWithTap } from '../protocol/session-harness.ts';
import { until } from '../../support/until.ts';

let conn: ProtocolConnection | undefined;
afterEach(async () => {
  await conn?.device.close();
  conn = undefined;
});

const isEvent = (p: Uint8Array) => {
  try {
    return decodeDeviceMessage(p).kind === 'event';
  } catch {
    return false;
  }
};

async function setup() {
  const { hostLink, deviceLink, setTap } = linkWithTap();
  const reader = new FakeReader();
  const device = new DeviceSession(deviceLink, reader);
  conn = await connectProtocolDevice(hostLink, { kind: 'sim', key: 'gaps', secure: 'off' });
  const seen: DeviceCardEvent[] = [];
  conn.device.onEvent((e) => seen.push(e));
  const losses: LinkLossNotice[] = [];
  conn.device.onLinkLoss?.((n) => losses.push(n));
  /** The next `n` events never reach the host. */
  const loseEvents = (n: number) => {
    let left = n;
    setTap((p, from) => (from === 'device' && left > 0 && isEvent(p) ? (left--, null) : p));
  };
  return { reader, device, seen, losses, loseEvents, session: conn.session };
}

describe('lost device events', () => {
  it('a lost card.removed (found by the ping after it) becomes card.removed from the slot states', async () => {
    const t = await setup();
    await conn!.device.ops.slotStatus();
    await conn!.device.ops.powerOn(1);
    t.loseEvents(1);
    t.reader.slots.get(1)!.card = false;
    t.reader.slots.get(1)!.powered = false;
    t.device.emit({ type: 'card.removed', slot: 1 });
    await t.session.ping(); // nextEvent 1, the host expected 0
    await until('the missed removal', () => t.seen.length > 0, 2000, 10);
    expect(t.seen).toEqual([{ type: 'card.removed', slot: 1 }]);
    expect(t.losses).toEqual([{ kind: 'event-gap', lost: 1 }]);
  });

  it('a card pulled and put back with both events lost: the powered card is now only present → removed + inserted', async () => {
    const t = await setup();
    await conn!.device.ops.slotStatus();
    await conn!.device.ops.powerOn(1);
    t.loseEvents(2);
    t.reader.slots.get(1)!.powered = false; // pulled (power lost) and put back
    t.device.emit({ type: 'card.removed', slot: 1 });
    t.device.emit({ type: 'card.inserted', slot: 1 });
    t.device.emit({ type: 'qr.scanned', text: 'next' }); // arrives: seq 2 where 0 was expected
    await until('the missed removal and insertion', () => t.seen.length >= 3, 2000, 10);
    expect(t.seen).toEqual([
      { type: 'qr.scanned', text: 'next' },
      { type: 'card.removed', slot: 1 },
      { type: 'card.inserted', slot: 1 },
    ]);
  });

  it('a lost event that changed nothing visible (a QR scan) produces no card events', async () => {
    const t = await setup();
    await conn!.device.ops.slotStatus();
    t.loseEvents(1);
    t.device.emit({ type: 'qr.scanned', text: 'lost' });
    await t.session.ping();
    await until('the gap', () => t.losses.length > 0, 2000, 10);
    await t.session.ping(); // the resync's slotStatus has been answered by now
    expect(t.seen).toEqual([]);
  });

  it('a new card in an empty slot (card.inserted lost) becomes card.inserted', async () => {
    const t = await setup();
    await conn!.device.ops.slotStatus();
    t.loseEvents(1);
    t.reader.slots.get(2)!.card = true;
    t.device.emit({ type: 'card.inserted', slot: 2 });
    await t.session.ping();
    await until('the missed insertion', () => t.seen.length > 0, 2000, 10);
    expect(t.seen).toEqual([{ type: 'card.inserted', slot: 2 }]);
  });
});
