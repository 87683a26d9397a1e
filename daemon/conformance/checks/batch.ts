// transmitBatch (PROTOCOL.md 6, optional: `batch: true` in hello): order and stop rules, the 61xx
// stop of a T=0 card, maxBatch, and the worst-case answer that must fit maxFrame (1.2, D3).
import { slotIdText } from '../../../protocol/slot-id.ts';
import type { HostSession } from '../../../protocol/host-session.ts';
import { LIMITS } from '../../../protocol/messages.ts';
import type { DeviceHello, SlotStatus } from '../../../protocol/operations.ts';
import {
  ANY_SW,
  CheckFailed,
  CheckSkipped,
  CheckUnexercised,
  expectDeviceError,
  hexSw,
  needBatch,
  needCard,
  SELECT_MF,
  slotWith,
  type CheckContext,
  type ConformanceCheck,
} from './check-kit.ts';

/** SELECT MF without response data (P2 0C): no 61xx even on T=0, so a batch of it runs on. */
const SELECT_MF_NO_DATA = Uint8Array.from([0x00, 0xa4, 0x00, 0x0c, 0x02, 0x3f, 0x00]);

function getResponse(le: number): Uint8Array {
  return Uint8Array.of(0x00, 0xc0, 0x00, 0x00, le);
}

/** Powers on the present cards (SAM slots first) and returns their slots: the powered ones and the first on T=0. */
async function powerOnForT0(s: HostSession, h: DeviceHello, statuses: SlotStatus[]): Promise<{ powered: number[]; found?: number }> {
  const kindOf = (id: number) => h.slots.find((x) => x.id === id)?.kind;
  const present = statuses.filter((x) => x.card !== 'absent' && x.card !== 'mute').map((x) => x.slot);
  present.sort((a, b) => Number(kindOf(b) === 'sam') - Number(kindOf(a) === 'sam'));
  const powered: number[] = [];
  for (const slot of present) {
    try {
      const on = await s.powerOn(slot);
      powered.push(slot);
      if (on.protocol === 0) return { powered, found: slot };
    } catch {
      // A mute or vanished card: try the next one.
    }
  }
  return { powered };
}

/** A slot whose card runs T=0 after powerOn (SAM slots first), or one switched to T=0 by setParams. */
async function t0Slot(s: HostSession, h: DeviceHello, statuses: SlotStatus[]): Promise<number | undefined> {
  const { powered, found: onT0 } = await powerOnForT0(s, h, statuses);
  let found = onT0;
  for (const slot of found === undefined ? powered : []) {
    try {
      if ((await s.setParams(slot, { protocol: 0 })).protocol === 0) {
        found = slot;
        break;
      }
    } catch {
      // PPS to T=0 refused (a T=1-only card) or no setParams: try the next card.
    }
  }
  for (const slot of powered) if (slot !== found) await s.powerOff(slot).catch(() => undefined);
  return found;
}

async function t0Stop(ctx: CheckContext): Promise<string> {
  const h = needBatch(ctx);
  if (h.maxBatch < 2) throw new CheckSkipped(`maxBatch ${h.maxBatch} < 2`);
  const s = await ctx.session();
  const t0 = await t0Slot(s, h, ctx.slots ?? []);
  if (t0 === undefined) throw new CheckUnexercised('no card on T=0 (put a SAM or a T=0 card in a slot)');
  const label = `slot ${slotIdText(t0)}`;
  try {
    // SELECT MF with data in and the FCI out: a case-4 command, answered 61xx on T=0.
    const probe = await s.transmit(t0, SELECT_MF);
    if (probe.length !== 2 || probe[0] !== 0x61) throw new CheckUnexercised(`${label}: the T=0 card answers SELECT MF with ${hexSw(probe)}, not 61xx`);
    const fci = await s.transmit(t0, getResponse(probe[1]));
    const r = await s.transmitBatch(t0, [{ apdu: SELECT_MF, expect: ANY_SW }, { apdu: SELECT_MF, expect: ANY_SW }]);
    if (r.responses.length !== 1 || r.stoppedAt !== 0) {
      throw new CheckFailed(`${label}: ${r.responses.length} responses (${r.responses.map(hexSw).join(', ')}), stoppedAt ${r.stoppedAt}: the batch ran on past 61xx`);
    }
    if (r.responses[0][0] !== 0x61) throw new CheckFailed(`${label}: SELECT MF answered ${hexSw(r.responses[0])} in the batch, 61xx alone`);
    const again = await s.transmit(t0, getResponse(r.responses[0][1]));
    if (Buffer.compare(Buffer.from(again), Buffer.from(fci)) !== 0) throw new CheckFailed(`${label}: GET RESPONSE after the batch did not return the FCI (${hexSw(again)})`);
    return `${label}: stopped at command 0 (${hexSw(r.responses[0])}), FCI fetched afterwards`;
  } finally {
    await s.powerOff(t0).catch(() => undefined);
  }
}

async function answerFits(ctx: CheckContext): Promise<string> {
  const h = needBatch(ctx);
  if (h.maxBatch < 3) throw new CheckSkipped(`maxBatch ${h.maxBatch} < 3`);
  const slot = needCard(ctx);
  // The host accepts only 512 bytes: three commands with Le = 00 may answer 3 × 258 bytes.
  const s = await ctx.session({ maxFrame: 512 });
  await s.powerOn(slot);
  const selectLe = Uint8Array.of(0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00, 0x00); // case 4, Ne 256; answers little
  try {
    const one = await s.transmitBatch(slot, [{ apdu: selectLe, expect: ANY_SW }]);
    if (one.responses.length !== 1) throw new CheckFailed(`a batch of one command answered ${one.responses.length} responses`);
    // request(), not transmitBatch(): the host session would split a batch that cannot fit.
    const three = [selectLe, selectLe, selectLe].map((apdu) => ({ apdu, expect: ANY_SW }));
    await expectDeviceError(
      () => s.request('transmitBatch', [slot, three]),
      'FRAME_TOO_LARGE',
      (r) => `executed (${r.responses.length} responses of ${r.responses.map((x) => x.length).join(', ')} bytes fit by luck): the worst case, 64 + 3 × 263 = 853 bytes, exceeds 512`,
    );
    return 'worst case 327 bytes → executed; 853 bytes > 512 → FRAME_TOO_LARGE';
  } finally {
    await s.powerOff(slot).catch(() => undefined);
  }
}

export const BATCH_CHECKS: ConformanceCheck[] = [
  {
    id: 'ops.batch',
    title: 'transmitBatch executes in order and stops at an unexpected status word',
    level: 'must',
    async run(ctx) {
      const h = needBatch(ctx);
      if (h.maxBatch < 3) throw new CheckSkipped(`maxBatch ${h.maxBatch} < 3`);
      const slot = needCard(ctx);
      const s = await ctx.session();
      await s.powerOn(slot);
      const never = [{ sw: 0xffff, mask: 0xffff }];
      const r = await s.transmitBatch(slot, [{ apdu: SELECT_MF_NO_DATA, expect: ANY_SW }, { apdu: SELECT_MF_NO_DATA, expect: never }, { apdu: SELECT_MF_NO_DATA }]);
      await s.powerOff(slot);
      if (r.responses.length !== 2 || r.stoppedAt !== 1) throw new CheckFailed(`${r.responses.length} responses, stoppedAt ${r.stoppedAt}`);
      return 'stopped at command 1 of 3';
    },
  },
  {
    id: 'ops.batch-t0-stop',
    title: 'transmitBatch stops at a 61xx answer of a T=0 card whatever expect says, keeping its data for GET RESPONSE',
    level: 'must',
    run: t0Stop,
  },
  {
    id: 'ops.batch-too-long',
    title: 'a batch longer than maxBatch is refused with BATCH_TOO_LONG',
    level: 'must',
    async run(ctx) {
      const h = needBatch(ctx);
      if (h.maxBatch >= LIMITS.maxBatch) throw new CheckSkipped('maxBatch is the protocol maximum');
      const slot = slotWith(ctx, 'present') ?? h.slots[0].id;
      const s = await ctx.session();
      const commands = Array.from({ length: h.maxBatch + 1 }, () => ({ apdu: SELECT_MF }));
      await expectDeviceError(() => s.transmitBatch(slot, commands), 'BATCH_TOO_LONG', 'an oversize batch was executed');
      return `${h.maxBatch + 1} commands → BATCH_TOO_LONG`;
    },
  },
  {
    id: 'ops.answer-fits',
    title: 'a batch whose worst-case answer cannot fit the negotiated maxFrame is refused with FRAME_TOO_LARGE before anything runs',
    level: 'must',
    run: answerFits,
  },
];
