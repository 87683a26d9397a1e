// Slots and cards (PROTOCOL.md 6, 6.1): slotStatus, powerOn/powerOff/resetCard, transmit, setParams
// and the card rate, and the errors for a missing slot, an empty slot and an unpowered card.
// ops.slot-status records the slot statuses in the context; the card checks pick their slot from it.
import { slotIdText } from '../../../protocol/slot-id.ts';
import { hexUpper } from '../../../common/hex.ts';
import { offeredRate } from '../../../apdu/atr.ts';
import { DeviceError } from '../../../protocol/device-error.ts';
import type { HostSession } from '../../../protocol/host-session.ts';
import type { DeviceHello, PowerOnResult } from '../../../protocol/operations.ts';
import {
  CheckFailed,
  CheckSkipped,
  CheckUnexercised,
  expectDeviceError,
  needCard,
  needPlaintextOps,
  SELECT_MF,
  slotWith,
  type CheckContext,
  type ConformanceCheck,
} from './check-kit.ts';

function unusedSlot(h: DeviceHello): number {
  for (let id = 0xee; id > 0; id--) if (!h.slots.some((s) => s.id === id)) return id;
  return 0xff;
}

/** The protocols an ATR offers (ISO/IEC 7816-3: the T of every TDi; T=0 alone when there is no TD1). */
function atrProtocols(atr: Uint8Array): Set<number> {
  const offered = new Set<number>();
  if (atr.length < 2) return offered;
  let y = atr[1] >> 4;
  let i = 2;
  let sawTd = false;
  for (;;) {
    i += (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1); // TAi, TBi, TCi
    if (!(y & 8) || i >= atr.length) break;
    const td = atr[i++];
    if ((td & 0x0f) !== 15) offered.add(td & 0x0f); // T=15 carries global bytes, it is no protocol
    sawTd = true;
    y = td >> 4;
  }
  if (!sawTd) offered.add(0);
  return offered;
}

/** A card session on a slot with a card: the plaintext operations must be reachable. */
async function cardSession(ctx: CheckContext, hint?: string): Promise<{ s: HostSession; slot: number }> {
  needPlaintextOps(ctx);
  const slot = needCard(ctx, hint);
  return { s: await ctx.session(), slot };
}

async function power(ctx: CheckContext): Promise<string> {
  const { s, slot } = await cardSession(ctx, 'no card in any slot (insert one to test)');
  await s.powerOff(slot);
  const on = await s.powerOn(slot);
  if (on.atr.length < 2) throw new CheckFailed('ATR shorter than 2 bytes');
  const st = (await s.slotStatus(slot))[0];
  if (st.card !== 'powered' || !st.atr) throw new CheckFailed(`slotStatus after powerOn: ${st.card}${st.atr ? '' : ' without ATR'}`);
  const reset = await s.resetCard(slot);
  if (reset.atr.length < 2) throw new CheckFailed('resetCard ATR shorter than 2 bytes');
  await s.powerOff(slot);
  const off = (await s.slotStatus(slot))[0];
  if (off.card !== 'present') throw new CheckFailed(`slotStatus after powerOff: ${off.card}`);
  return `slot 0x${slot.toString(16)}, ATR ${on.atr.length} bytes, T=${on.protocol}`;
}

async function atrProtocol(ctx: CheckContext): Promise<string> {
  const { s, slot } = await cardSession(ctx);
  const offers = (atr: Uint8Array) => [...atrProtocols(atr)].join('/T=');
  try {
    const on = await s.powerOn(slot);
    if (!atrProtocols(on.atr).has(on.protocol)) throw new CheckFailed(`ATR ${hexUpper(on.atr)} offers T=${offers(on.atr)}, powerOn answered T=${on.protocol}`);
    const reset = await s.resetCard(slot);
    if (!atrProtocols(reset.atr).has(reset.protocol)) throw new CheckFailed(`ATR ${hexUpper(reset.atr)} offers T=${offers(reset.atr)}, resetCard answered T=${reset.protocol}`);
    return `ATR ${hexUpper(on.atr)}: offers T=${offers(on.atr)}, T=${on.protocol} in use`;
  } finally {
    await s.powerOff(slot).catch(() => undefined);
  }
}

/** No TA1: the card runs 372/1 only, and a device must not claim or accept a faster rate (6.1). */
async function rateWithoutTa1(s: HostSession, slot: number, on: PowerOnResult): Promise<string> {
  if (on.fi !== undefined && (on.fi !== 372 || on.di !== 1)) throw new CheckFailed(`powerOn reports Fi ${on.fi} Di ${on.di} for a card without TA1`);
  let refused = '';
  try {
    const p = await s.setParams(slot, { protocol: on.protocol, fi: 512, di: 32 });
    await s.powerOff(slot);
    throw new CheckFailed(`setParams to Fi 512 Di 32 was accepted (answered Fi ${p.fi} Di ${p.di}) for a card whose ATR offers no TA1`);
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    if (!(e instanceof DeviceError)) throw e;
    if (e.code === 'UNKNOWN_OPERATION') throw new CheckSkipped('no setParams');
    refused = e.code;
  }
  const [st] = await s.slotStatus(slot);
  await s.powerOff(slot);
  if (st?.fi !== undefined && (st.fi !== 372 || st.di !== 1)) throw new CheckFailed(`slotStatus reports Fi ${st.fi} Di ${st.di} for a card without TA1`);
  return `slot ${slot}: no TA1 in the ATR; a PPS to Fi 512 Di 32 is refused (${refused || 'error'})`;
}

/** TA1 offers a rate: PPS to it, slotStatus reports it (optional), and APDUs still work. */
async function rateOfTa1(s: HostSession, slot: number, on: PowerOnResult, offered: { fi: number; di: number; ta1: number }): Promise<string> {
  const ta1 = offered.ta1.toString(16).toUpperCase();
  if (on.fi !== undefined && (on.fi !== 372 || on.di !== 1) && (on.fi !== offered.fi || on.di !== offered.di)) {
    throw new CheckFailed(`powerOn reports Fi ${on.fi} Di ${on.di}: neither the default 372/1 nor TA1 ${ta1}`);
  }
  const p = await s.setParams(slot, { protocol: on.protocol, fi: offered.fi, di: offered.di });
  if (p.fi !== offered.fi || p.di !== offered.di) throw new CheckFailed(`setParams to TA1 ${ta1} (Fi ${offered.fi} Di ${offered.di}) answered Fi ${p.fi} Di ${p.di}`);
  const [st] = await s.slotStatus(slot);
  const notes: string[] = [];
  if (st?.fi === undefined) notes.push('slotStatus does not report the rate (optional)');
  else if (st.fi !== offered.fi || st.di !== offered.di) throw new CheckFailed(`slotStatus reports Fi ${st.fi} Di ${st.di} after PPS to Fi ${offered.fi} Di ${offered.di}`);
  const r = await s.transmit(slot, SELECT_MF);
  await s.powerOff(slot);
  if (r.length < 2) throw new CheckFailed('no status word after PPS');
  const clock = p.clockHz ?? st?.clockHz;
  const rate = clock ? `, ${Math.round((clock * offered.di) / offered.fi / 100) / 10} kbit/s at ${clock / 1e6} MHz` : ', no clockHz';
  return `slot ${slot}: TA1 ${ta1} → Fi ${p.fi} Di ${p.di}${rate}${notes.length ? `; ${notes.join('; ')}` : ''}`;
}

async function cardRate(ctx: CheckContext): Promise<string> {
  const h = needPlaintextOps(ctx);
  const contact = h.slots.filter((x) => x.kind !== 'contactless').map((x) => x.id);
  const candidates = (ctx.slots ?? []).filter((x) => contact.includes(x.slot) && x.card !== 'absent' && x.card !== 'mute').map((x) => x.slot);
  if (candidates.length === 0) throw new CheckSkipped('no card in a contact slot');
  const s = await ctx.session();
  const slot = candidates[0];
  const on = await s.powerOn(slot);
  let offered: ReturnType<typeof offeredRate>;
  try {
    offered = offeredRate(on.atr);
  } catch {
    offered = undefined;
  }
  return offered ? rateOfTa1(s, slot, on, offered) : rateWithoutTa1(s, slot, on);
}

export const SLOT_AND_CARD_CHECKS: ConformanceCheck[] = [
  {
    id: 'ops.slot-status',
    title: 'slotStatus lists every slot of hello with a valid state',
    level: 'must',
    async run(ctx) {
      const h = needPlaintextOps(ctx);
      const s = await ctx.session();
      const all = await s.slotStatus();
      for (const slot of h.slots) if (!all.some((x) => x.slot === slot.id)) throw new CheckFailed(`slot ${slot.id} missing`);
      const one = await s.slotStatus(h.slots[0].id);
      if (one.length !== 1 || one[0].slot !== h.slots[0].id) throw new CheckFailed('slotStatus(slot) did not answer that one slot');
      ctx.slots = all;
      return all.map((x) => `${slotIdText(x.slot)}:${x.card}`).join(' ');
    },
  },
  {
    id: 'ops.bad-slot',
    title: 'a slot not listed in hello is refused with BAD_SLOT',
    level: 'must',
    async run(ctx) {
      const h = needPlaintextOps(ctx);
      const s = await ctx.session();
      const e = await expectDeviceError(() => s.powerOn(unusedSlot(h)), 'BAD_SLOT', 'powerOn of a missing slot succeeded');
      return `${e.code} (${e.wire})`;
    },
  },
  {
    id: 'ops.no-card',
    title: 'powerOn of an empty slot is refused with NO_CARD',
    level: 'must',
    async run(ctx) {
      needPlaintextOps(ctx);
      const slot = slotWith(ctx, 'absent');
      if (slot === undefined) throw new CheckUnexercised('no empty slot (remove a card to test)');
      const s = await ctx.session();
      await expectDeviceError(() => s.powerOn(slot), 'NO_CARD', 'powerOn of an empty slot succeeded');
      return `slot 0x${slot.toString(16)}`;
    },
  },
  {
    id: 'ops.power',
    title: 'powerOn → ATR, slotStatus shows it powered, resetCard → ATR, powerOff',
    level: 'must',
    run: power,
  },
  {
    id: 'ops.atr-protocol',
    title: 'the protocol of powerOn and resetCard is one the ATR offers (T=0 when the ATR has no TD1)',
    level: 'must',
    run: atrProtocol,
  },
  {
    id: 'ops.not-powered',
    title: 'transmit to an unpowered card is refused with CARD_NOT_POWERED',
    level: 'must',
    async run(ctx) {
      const { s, slot } = await cardSession(ctx);
      await s.powerOff(slot);
      const e = await expectDeviceError(() => s.transmit(slot, SELECT_MF), 'CARD_NOT_POWERED', 'transmit to an unpowered card succeeded');
      return `${e.code} (${e.wire})`;
    },
  },
  {
    id: 'ops.transmit',
    title: 'transmit returns the card response (data + SW1 SW2)',
    level: 'must',
    async run(ctx) {
      const { s, slot } = await cardSession(ctx);
      await s.powerOn(slot);
      const r = await s.transmit(slot, SELECT_MF);
      const sw = (r[r.length - 2] << 8) | r[r.length - 1];
      await s.powerOff(slot);
      return `SELECT MF → SW ${sw.toString(16).toUpperCase().padStart(4, '0')}`;
    },
  },
  {
    id: 'ops.set-params',
    title: 'setParams accepts the protocol in use',
    level: 'should',
    async run(ctx) {
      const { s, slot } = await cardSession(ctx);
      const on = await s.powerOn(slot);
      const p = await s.setParams(slot, { protocol: on.protocol });
      await s.powerOff(slot);
      if (p.protocol !== on.protocol) throw new CheckFailed(`answered protocol ${p.protocol}`);
      return `T=${p.protocol}${p.fi ? `, Fi ${p.fi} Di ${p.di}` : ''}`;
    },
  },
  {
    id: 'ops.card-rate',
    title: "PPS to the Fi/Di of the card's TA1: setParams and slotStatus report that rate, APDUs still work; without TA1 a faster rate is refused (1.2, 6.1)",
    level: 'should',
    run: cardRate,
  },
];
