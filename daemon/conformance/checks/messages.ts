// Messages (PROTOCOL.md 3 and 4.1): how a device answers requests it cannot decode or execute, and
// (the last check of a run) whether everything it sent during the run was a valid message.
import { CheckFailed, expectResult, needHello, pingAnswered, ready, readyRaw, requestError, type CheckContext, type ConformanceCheck } from './check-kit.ts';

/** Decode errors before state errors: in NOT_READY (after a failed hello) and, if required, before the channel opens. */
async function errorOrder(ctx: CheckContext): Promise<string> {
  const h = needHello(ctx);
  const raw = ctx.raw();
  // A failed hello leaves the device NOT_READY (4).
  await requestError(raw, ctx, { op: 'hello', versions: [200], maxFrame: 4096 }, 'UNSUPPORTED_VERSION', 2000);
  const seen: string[] = [];
  const ask = async (map: { op: string; slot?: string }, name: string) => {
    seen.push(`${map.op} → ${await requestError(raw, ctx, map, name)}`);
  };
  await ask({ op: 'conformanceNoSuchOp' }, 'UNKNOWN_OPERATION');
  await ask({ op: 'powerOn', slot: 'one' }, 'BAD_REQUEST');
  await ask({ op: 'slotStatus' }, 'NOT_READY');
  if (h.secureChannel === 'required') {
    await ready(raw, ctx);
    await ask({ op: 'conformanceNoSuchOp' }, 'UNKNOWN_OPERATION');
    await ask({ op: 'powerOn', slot: 'one' }, 'BAD_REQUEST');
    await ask({ op: 'slotStatus' }, 'SECURE_CHANNEL_REQUIRED');
  }
  return seen.join(', ');
}

export const MESSAGE_CHECKS: ConformanceCheck[] = [
  {
    id: 'messages.error-order',
    title: 'decode errors (UNKNOWN_OPERATION, BAD_REQUEST) come before state errors (NOT_READY, SECURE_CHANNEL_REQUIRED)',
    level: 'must',
    run: errorOrder,
  },
  {
    id: 'messages.unknown-operation',
    title: 'an unknown operation is refused with UNKNOWN_OPERATION and the same id',
    level: 'must',
    async run(ctx) {
      return requestError(await readyRaw(ctx), ctx, { op: 'conformanceNoSuchOp' }, 'UNKNOWN_OPERATION');
    },
  },
  {
    id: 'messages.bad-field',
    title: 'a wrongly typed field is refused with BAD_REQUEST and the same id',
    level: 'must',
    async run(ctx) {
      return requestError(await readyRaw(ctx), ctx, { op: 'powerOn', slot: 'one' }, 'BAD_REQUEST');
    },
  },
  {
    id: 'messages.unknown-keys',
    title: 'unknown keys in a request are ignored',
    level: 'must',
    async run(ctx) {
      const raw = await readyRaw(ctx);
      const id = raw.id();
      expectResult(await raw.request({ id, op: 'ping', futureField: { nested: [1, 2] }, note: 'x' }, 1500 * ctx.scale), 'ping with extra keys');
    },
  },
  {
    id: 'messages.not-a-map',
    title: 'a frame that is not a msgpack map does not break the device (id 0 BAD_REQUEST recommended)',
    level: 'must',
    async run(ctx) {
      const raw = await readyRaw(ctx);
      raw.writePayload(Uint8Array.of(0x93, 0x01, 0x02, 0x03)); // [1, 2, 3]
      raw.writePayload(Uint8Array.of(0xa3, 0x61, 0x62, 0x63)); // "abc"
      if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping not answered afterwards');
      const reported = raw.received.filter((m) => m.kind === 'error' && m.id === 0 && m.name === 'BAD_REQUEST').length;
      return `${reported}/2 reported as id 0 BAD_REQUEST`;
    },
  },
];

/** Runs last: the host sessions of the whole run counted every malformed message. */
export const ALL_VALID_CHECK: ConformanceCheck = {
  id: 'messages.all-valid',
  title: 'every message the device sent during the run was valid',
  level: 'must',
  async run(ctx) {
    if (ctx.badMessages > 0) throw new CheckFailed(`${ctx.badMessages} malformed messages`);
  },
};
