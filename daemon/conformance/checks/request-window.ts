// The request window, loss and retransmission (PROTOCOL.md 9, 9.1): pipelined requests, a repeated
// id answered again but not executed again, and pending notices while a request is held.
import { hexUpper } from '../../../common/hex.ts';
import type { HostSession } from '../../../protocol/host-session.ts';
import type { DeviceToHostMessage } from '../../../protocol/messages.ts';
import { PENDING_NOTICE_MS } from '../../../protocol/timing.ts';
import {
  ANY_SW,
  CheckFailed,
  CheckUnexercised,
  GET_CHALLENGE,
  hexSw,
  longestSilence,
  needCard,
  needPlaintextOps,
  sleep,
  type CheckContext,
  type ConformanceCheck,
} from './check-kit.ts';

type Repeat = 'at-once' | 'after-answer';

/**
 * One GET CHALLENGE whose request goes out twice with one id, as a retransmission after a lost answer
 * would: at once (the repeat meets the request still held: a pending notice, or the answer again) or
 * after the answer came (the device must answer it again from its window). Returns the challenge.
 */
async function repeatRound(ctx: CheckContext, s: HostSession, slot: number, seen: DeviceToHostMessage[], repeat: Repeat): Promise<{ challenge: string; outcome: string }> {
  seen.length = 0;
  const sentAt = performance.now();
  const first = await s.transmit(slot, GET_CHALLENGE, { repeat });
  const took = performance.now() - sentAt;
  if (first.length < 3 || hexSw(first) !== '9000') {
    await s.powerOff(slot);
    throw new CheckUnexercised(`the card answers GET CHALLENGE with ${first.length - 2} bytes and SW ${hexSw(first)} (needs data and 9000)`);
  }
  const firstAnswer = seen.find((m) => m.kind === 'result' && m.fields.rapdu instanceof Uint8Array);
  const id = firstAnswer?.kind === 'result' ? firstAnswer.id : undefined;
  const answers = () => seen.flatMap((m) => (m.kind === 'result' && m.id === id && m.fields.rapdu instanceof Uint8Array ? [hexUpper(m.fields.rapdu)] : []));
  const pending = () => seen.some((m) => m.kind === 'pending' && m.id === id);
  const done = () => answers().length >= 2 || (repeat === 'at-once' && pending());
  const deadline = performance.now() + 1000 * ctx.scale;
  while (!done() && performance.now() < deadline) await sleep(10);
  // A device that executed the repeat again would answer it about one execution later.
  await sleep(Math.max(100, 2 * took) * ctx.scale);
  const got = answers();
  if (got.length > 2) throw new CheckFailed(`${repeat}: request ${id} answered ${got.length} times`);
  if (got.length === 2 && got[0] !== got[1]) throw new CheckFailed(`${repeat}: the repeat was executed again: two challenges ${got[0]} and ${got[1]} for one id`);
  if (got.length < 2 && !(repeat === 'at-once' && pending())) {
    throw new CheckFailed(`${repeat}: the repeat got neither the answer again nor a pending notice (a host whose answer was lost would never get it)`);
  }
  return { challenge: got[0], outcome: `${repeat}: ${got.length === 2 ? 'the same answer again' : 'pending notice, one answer'}` };
}

async function repeatOnce(ctx: CheckContext): Promise<string> {
  needPlaintextOps(ctx);
  const slot = needCard(ctx);
  const seen: DeviceToHostMessage[] = [];
  // No retransmissions of its own: on a loaded line the session would send a slow request again and
  // a third answer would count against the device. The check's two repeats are the only ones.
  const s = await ctx.session({ maxRetransmits: 0, observe: (m) => seen.push(m) });
  await s.powerOn(slot);
  const outcomes: string[] = [];
  const challenges: string[] = [];
  for (const repeat of ['at-once', 'after-answer'] as const) {
    const round = await repeatRound(ctx, s, slot, seen, repeat);
    outcomes.push(round.outcome);
    challenges.push(round.challenge);
  }
  const fresh = hexUpper(await s.transmit(slot, GET_CHALLENGE));
  await s.powerOff(slot);
  if (new Set([...challenges, fresh]).size < 3) throw new CheckUnexercised('the card gives the same challenge to new requests: a repeat cannot be told from a re-execution');
  return `${outcomes.join('; ')}; a new request gets a new challenge`;
}

/** ops.pending-notice on a device with diagHold: a held request, and a repeat of it at once. */
async function pendingWithDiagHold(ctx: CheckContext): Promise<string> {
  const notices: Array<{ id: number; at: number }> = [];
  let answeredId: number | undefined;
  const s = await ctx.session({
    maxRetransmits: 0,
    observe: (m) => {
      if (m.kind === 'pending') notices.push({ id: m.id, at: performance.now() });
      else if (m.kind === 'result' && m.fields.heldMs !== undefined) answeredId ??= m.id;
    },
  });
  const holdMs = 1000;
  const t0 = performance.now();
  await s.request('diagHold', [holdMs], { timeoutMs: (holdMs + 5000) * ctx.scale });
  const t1 = performance.now();
  const { inside, longest } = longestSilence(t0, t1, notices.map((n) => n.at));
  const periodic = `${inside} pending notices during a ${holdMs} ms diagHold (${(t1 - t0).toFixed(0)} ms), longest silence ${longest.toFixed(0)} ms`;
  if (longest > 2 * PENDING_NOTICE_MS * ctx.scale) throw new CheckFailed(periodic);
  // A repeat of a held request: one notice at once, on top of the periodic ones.
  notices.length = 0;
  answeredId = undefined;
  const r0 = performance.now();
  await s.request('diagHold', [500], { repeat: 'at-once', timeoutMs: 5500 * ctx.scale });
  const held = notices.filter((n) => n.id === answeredId);
  const early = held.some((n) => n.at - r0 < PENDING_NOTICE_MS * 0.9);
  if (!early && held.length < 3) throw new CheckFailed(`a repeat of a held diagHold got no pending notice at once (${held.length} notices, the first after ${held.length ? (held[0].at - r0).toFixed(0) : '—'} ms)`);
  return `${periodic}; a repeat while held → a notice at once`;
}

/** ops.pending-notice without diagHold: a full batch of GET CHALLENGE, if the card makes it slow enough. */
async function pendingWithBatch(ctx: CheckContext, maxBatch: number): Promise<string> {
  const slot = needCard(ctx);
  const notices: number[] = [];
  // No retransmissions: a repeat would be answered with a notice at once and hide missing periodic ones.
  const s = await ctx.session({
    maxRetransmits: 0,
    timeouts: { transmitBatch: 60_000 * ctx.scale },
    observe: (m) => {
      if (m.kind === 'pending') notices.push(performance.now());
    },
  });
  await s.powerOn(slot);
  const t0 = performance.now();
  const r = await s.transmitBatch(slot, Array.from({ length: maxBatch }, () => ({ apdu: GET_CHALLENGE, expect: ANY_SW })));
  const t1 = performance.now();
  await s.powerOff(slot);
  const took = t1 - t0;
  if (took < 2 * PENDING_NOTICE_MS) {
    throw new CheckUnexercised(`${r.responses.length} GET CHALLENGE in one batch took ${took.toFixed(0)} ms: too quick to need pending notices (a slower card or line shows them)`);
  }
  const { inside, longest } = longestSilence(t0, t1, notices);
  const summary = `${inside} pending notices during ${took.toFixed(0)} ms, longest silence ${longest.toFixed(0)} ms`;
  if (longest > 2 * PENDING_NOTICE_MS * ctx.scale) throw new CheckFailed(summary);
  return summary;
}

export const REQUEST_WINDOW_CHECKS: ConformanceCheck[] = [
  {
    id: 'ops.pipelined',
    title: 'maxInFlight requests sent at once are all answered, in order, without BUSY',
    level: 'must',
    async run(ctx) {
      const h = needPlaintextOps(ctx);
      const n = h.maxInFlight ?? 1;
      const s = await ctx.session({ maxInFlight: n });
      const order: number[] = [];
      await Promise.all(Array.from({ length: n * 3 }, (_, i) => s.slotStatus(h.slots[0].id).then(() => order.push(i))));
      if (order.some((v, i) => v !== i)) throw new CheckFailed('answers out of order');
      return `${n * 3} requests, ${n} in flight`;
    },
  },
  {
    id: 'ops.repeat-once',
    title: 'a repeated request id is answered again, not executed again (GET CHALLENGE sent twice with one id → one challenge)',
    level: 'must',
    run: repeatOnce,
  },
  {
    id: 'ops.pending-notice',
    title: `a request held longer than ${PENDING_NOTICE_MS} ms gets a pending notice at least every ${PENDING_NOTICE_MS} ms until its answer`,
    level: 'must',
    async run(ctx) {
      const h = needPlaintextOps(ctx);
      if (h.diagnostics) return pendingWithDiagHold(ctx);
      if (!h.batch || h.maxBatch < 2) throw new CheckUnexercised('a long request needs transmitBatch or diagHold (diagnostics: true)');
      return pendingWithBatch(ctx, h.maxBatch);
    },
  },
];
