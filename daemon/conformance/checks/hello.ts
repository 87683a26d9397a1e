// Hello and version negotiation (PROTOCOL.md 4 and 5): the first checks of a run. hello.negotiate
// records the device's hello in the context; every later check starts from it.
import { decodeResult } from '../../../protocol/messages.ts';
import type { DeviceHello } from '../../../protocol/operations.ts';
import { CheckFailed, expectError, expectResult, hello, needHello, pingAnswered, ready, requestError, sleep, type CheckContext, type ConformanceCheck } from './check-kit.ts';

/** The first slotStatus before any hello; a device still ready from an earlier connection is reset first. */
async function requiredFirst(ctx: CheckContext): Promise<string> {
  const raw = ctx.raw();
  let id = raw.id();
  let m = await raw.request({ id, op: 'slotStatus' }, 1500 * ctx.scale);
  if (m?.kind === 'result') {
    // Still ready from an earlier connection: reset it, then try again.
    await ready(raw, ctx);
    const rid = raw.id();
    expectResult(await raw.request({ id: rid, op: 'deviceReset' }, 10_000 * ctx.scale), 'deviceReset');
    await sleep(200);
    id = raw.id();
    m = await raw.request({ id, op: 'slotStatus' }, 1500 * ctx.scale);
  }
  return expectError(m, 'NOT_READY', id);
}

async function negotiate(ctx: CheckContext): Promise<string> {
  const raw = ctx.raw();
  const m = await hello(raw, ctx, [1], 66_560);
  expectResult(m, 'hello');
  if (m?.kind !== 'result') throw new CheckFailed('no hello result');
  let h: DeviceHello;
  try {
    h = decodeResult('hello', m.fields);
  } catch (e) {
    throw new CheckFailed(`invalid hello: ${(e as Error).message}`);
  }
  if (h.version !== 1) throw new CheckFailed(`version ${h.version}`);
  if (h.slots.length === 0) throw new CheckFailed('no slots listed');
  if (new Set(h.slots.map((s) => s.id)).size !== h.slots.length) throw new CheckFailed('duplicate slot ids');
  if (h.maxFrame < 512) throw new CheckFailed(`maxFrame ${h.maxFrame} < 512`);
  if (h.batch && h.maxBatch < 1) throw new CheckFailed('batch: true with maxBatch 0');
  ctx.hello = h;
  return `v${h.version}, ${h.slots.length} slots, maxFrame ${h.maxFrame}, maxInFlight ${h.maxInFlight ?? 1}, batch ${h.batch ? h.maxBatch : 'no'}, QR ${h.qrScanner ? 'yes' : 'no'}, secure ${h.secureChannel}`;
}

export const HELLO_CHECKS: ConformanceCheck[] = [
  {
    id: 'hello.required-first',
    title: 'requests before hello are refused with NOT_READY',
    level: 'must',
    run: requiredFirst,
  },
  {
    id: 'hello.negotiate',
    title: 'hello answers with a valid device description',
    level: 'must',
    run: negotiate,
  },
  {
    id: 'hello.version-choice',
    title: 'hello picks version 1 from a list that also names unknown versions',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const m = await hello(ctx.raw(), ctx, [9, 1]);
      expectResult(m, 'hello');
      const v = m?.kind === 'result' ? m.fields.version : undefined;
      if (v !== 1) throw new CheckFailed(`chose version ${String(v)}`);
    },
  },
  {
    id: 'hello.no-common-version',
    title: 'hello without a common version is refused with UNSUPPORTED_VERSION',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      return requestError(ctx.raw(), ctx, { op: 'hello', versions: [200], maxFrame: 4096 }, 'UNSUPPORTED_VERSION', 2000);
    },
  },
  {
    id: 'hello.ids-restart',
    title: "the hello's own id is not part of the new connection: the first request after it is new whatever its id",
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      for (const [helloId, firstId] of [[500, 1], [900, 2], [0x7fff_0000, 3]] as const) {
        expectResult(await raw.request({ id: helloId, op: 'hello', versions: [1], maxFrame: 4096 }, 2000 * ctx.scale), `hello with id ${helloId}`);
        const m = await raw.request({ id: firstId, op: 'ping' }, 1500 * ctx.scale);
        if (!m) throw new CheckFailed(`hello with id ${helloId}, then ping with id ${firstId}: no answer (the device kept the hello's id in its window)`);
        expectResult(m, `ping ${firstId} after hello ${helloId}`);
        const next = await raw.request({ id: firstId + 1, op: 'ping' }, 1500 * ctx.scale);
        expectResult(next, `ping ${firstId + 1}`);
      }
      return 'hello 500 → ping 1, hello 900 → ping 2, hello 0x7fff0000 → ping 3: all answered';
    },
  },
  {
    id: 'hello.max-frame-range',
    title: 'a hello maxFrame above 262,144 is accepted (it counts as 262,144); below 512 is refused with BAD_REQUEST',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      await requestError(raw, ctx, { op: 'hello', versions: [1], maxFrame: 100 }, 'BAD_REQUEST', 2000);
      for (const maxFrame of [1_000_000, 0xffff_ffff]) {
        const m = await hello(raw, ctx, [1], maxFrame);
        expectResult(m, `hello with maxFrame ${maxFrame}`);
        if (!(await pingAnswered(raw, ctx))) throw new CheckFailed(`ping after hello with maxFrame ${maxFrame} not answered`);
      }
      return 'maxFrame 100 → BAD_REQUEST; 1,000,000 and 2^32−1 accepted';
    },
  },
];
