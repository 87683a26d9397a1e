// The checks of the conformance suite, in run order. Each check is small and says what it observed.
// MUST checks are the v1 requirements of PROTOCOL.md; SHOULD checks are recommendations.
import { offeredRate } from '../../apdu/atr.ts';
import { DeviceError } from '../../protocol/device-error.ts';
import { PENDING_NOTICE_MS } from '../../protocol/timing.ts';
import { FrameEncoder, MAX_MAX_FRAME } from '../../protocol/framing.ts';
import type { HostSession, HostSessionOptions } from '../../protocol/host-session.ts';
import { decodeResult, LIMITS, packMap, type DeviceToHostMessage } from '../../protocol/messages.ts';
import type { DeviceHello, SlotStatus } from '../../protocol/operations.ts';
import { RECORD_MARKER } from '../../protocol/frame-channel.ts';
import { Sm2PrivateKey, Sm2PublicKey, sm2KeyExchange } from '../../crypto/index.ts';
import { parseCertificateBody } from '../../protocol/secure/device-certificate.ts';
import type { CheckLevel } from './conformance-report.ts';
import type { RawClient } from './raw-client.ts';

/** The check does not apply: the device does not announce the feature. */
export class CheckSkipped extends Error {}
/** The check applies but this run could not drive it (no card, no CA key …): never a pass. */
export class CheckUnexercised extends Error {}
export class CheckFailed extends Error {}

/** Rewrites one outgoing frame payload (host → device) of a session; return it unchanged to pass it. */
export type PayloadTap = (payload: Uint8Array) => Uint8Array | Uint8Array[] | null;

export interface CheckContext {
  /** Raw access on a fresh lease of the link (closed after the check). */
  raw(): RawClient;
  /** A host session on a fresh lease (closed after the check). The policy follows the device and the trust given. */
  session(options?: HostSessionOptions & { tap?: PayloadTap }): Promise<HostSession>;
  /** The device's hello (set by the hello check). */
  hello?: DeviceHello;
  /** Slot statuses from the first slotStatus. */
  slots?: SlotStatus[];
  /** Milliseconds multiplier for slow devices/lines. */
  scale: number;
  /** Whether the run can open the secure channel (trusted CA given). */
  canSecure: boolean;
  /** Every message a host session of this run refused as malformed. */
  badMessages: number;
}

export interface ConformanceCheck {
  id: string;
  title: string;
  level: CheckLevel;
  run(ctx: CheckContext): Promise<string | void>;
}

const SELECT_MF = Uint8Array.from([0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00]);
/** GET CHALLENGE, 8 bytes: a different answer every time it is executed (not idempotent). */
const GET_CHALLENGE = Uint8Array.from([0x00, 0x84, 0x00, 0x00, 0x08]);
/** SELECT MF without response data (P2 0C): no 61xx even on T=0, so a batch of it runs on. */
const SELECT_MF_NO_DATA = Uint8Array.from([0x00, 0xa4, 0x00, 0x0c, 0x02, 0x3f, 0x00]);

function expectError(m: DeviceToHostMessage | undefined, name: string, id: number): string {
  if (!m) throw new CheckFailed(`no answer to request ${id} (expected error ${name})`);
  if (m.kind === 'event' || m.kind === 'pending') throw new CheckFailed(`a ${m.kind} message instead of an answer`);
  if (m.kind === 'result') throw new CheckFailed(`a result instead of error ${name}`);
  if (m.name !== name) throw new CheckFailed(`error ${m.name ?? m.wire} instead of ${name}`);
  return `${name} (${m.wire})`;
}

function expectResult(m: DeviceToHostMessage | undefined, what: string): void {
  if (!m) throw new CheckFailed(`no answer to ${what}`);
  if (m.kind === 'event' || m.kind === 'pending') throw new CheckFailed(`a ${m.kind} message instead of an answer to ${what}`);
  if (m.kind === 'error') throw new CheckFailed(`${what} failed with ${m.name ?? m.wire}`);
}

async function hello(raw: RawClient, ctx: CheckContext, versions = [1], maxFrame = 4096): Promise<DeviceToHostMessage | undefined> {
  const id = raw.id();
  return raw.request({ id, op: 'hello', versions, maxFrame }, 2000 * ctx.scale);
}

/** A probe: ping answered (after hello) proves the device is in sync. */
async function pingAnswered(raw: RawClient, ctx: CheckContext): Promise<boolean> {
  const id = raw.id();
  const m = await raw.request({ id, op: 'ping' }, 1500 * ctx.scale);
  return m !== undefined && m.kind === 'result';
}

async function ready(raw: RawClient, ctx: CheckContext): Promise<void> {
  const m = await hello(raw, ctx);
  expectResult(m, 'hello');
}

function needHello(ctx: CheckContext): DeviceHello {
  if (!ctx.hello) throw new CheckUnexercised('hello failed');
  return ctx.hello;
}

function plaintextOpsPossible(ctx: CheckContext): void {
  if (ctx.hello?.secureChannel === 'required' && !ctx.canSecure) throw new CheckUnexercised('the device requires the secure channel: give its vendor CA key');
}

/** The hello of a device that batches and whose operations this run can reach (else the check is skipped). */
function needBatch(ctx: CheckContext): DeviceHello {
  const h = needHello(ctx);
  plaintextOpsPossible(ctx);
  if (!h.batch) throw new CheckSkipped('the device does not announce batch');
  return h;
}

function slotWith(ctx: CheckContext, card: 'present' | 'absent'): number | undefined {
  const contact = ctx.hello?.slots.filter((s) => s.kind !== 'sam').map((s) => s.id) ?? [];
  const statuses = ctx.slots ?? [];
  const match = statuses.filter((s) => (card === 'absent' ? s.card === 'absent' : s.card !== 'absent' && s.card !== 'mute'));
  return (match.find((s) => contact.includes(s.slot)) ?? match[0])?.slot;
}

function unusedSlot(h: DeviceHello): number {
  for (let id = 0xee; id > 0; id--) if (!h.slots.some((s) => s.id === id)) return id;
  return 0xff;
}

function hexSw(r: Uint8Array): string {
  return r.length < 2 ? `${r.length}-byte answer` : Buffer.from(r.subarray(r.length - 2)).toString('hex').toUpperCase();
}

function getResponse(le: number): Uint8Array {
  return Uint8Array.of(0x00, 0xc0, 0x00, 0x00, le);
}

/** A slot whose card runs T=0 after powerOn (SAM slots first), or one switched to T=0 by setParams. */
async function t0Slot(s: HostSession, h: DeviceHello, statuses: SlotStatus[]): Promise<number | undefined> {
  const kindOf = (id: number) => h.slots.find((x) => x.id === id)?.kind;
  const present = statuses.filter((x) => x.card !== 'absent' && x.card !== 'mute').map((x) => x.slot);
  present.sort((a, b) => Number(kindOf(b) === 'sam') - Number(kindOf(a) === 'sam'));
  const powered: number[] = [];
  let found: number | undefined;
  for (const slot of present) {
    try {
      const on = await s.powerOn(slot);
      powered.push(slot);
      if (on.protocol === 0) {
        found = slot;
        break;
      }
    } catch {
      // A mute or vanished card: try the next one.
    }
  }
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

/** The protocols an ATR offers (ISO/IEC 7816-3: the T of every TDi; T=0 alone when there is no TD1). */
export function atrProtocols(atr: Uint8Array): Set<number> {
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

function sendRawRecord(raw: RawClient): void {
  // A well-formed record (marker, seq 0, 17 bytes of "ciphertext", 16 of tag) that no key opens.
  const rec = new Uint8Array(1 + 8 + 17 + 16);
  rec[0] = RECORD_MARKER;
  for (let i = 9; i < rec.length; i++) rec[i] = (i * 29 + 7) & 0xff;
  raw.writePayload(rec);
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
  const marks = [t0, ...notices.filter((n) => n.at > t0 && n.at < t1).map((n) => n.at), t1];
  let longest = 0;
  for (let i = 1; i < marks.length; i++) longest = Math.max(longest, marks[i] - marks[i - 1]);
  const periodic = `${marks.length - 2} pending notices during a ${holdMs} ms diagHold (${(t1 - t0).toFixed(0)} ms), longest silence ${longest.toFixed(0)} ms`;
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

/** Frames a tap sees are whole frames; this re-encodes a changed payload. */
export function frameTap(tap: PayloadTap): (frame: Uint8Array) => Uint8Array | null {
  const enc = new FrameEncoder(MAX_MAX_FRAME);
  return (frame) => {
    // HostSession writes exactly one frame per write: COBS body + delimiter.
    const body = frame.subarray(0, frame.length - 1);
    const payload = cobsDecode(body);
    if (!payload) return frame;
    const out = tap(payload);
    if (out === payload) return frame;
    if (out === null) return null;
    const list = Array.isArray(out) ? out : [out];
    const parts = list.map((p) => enc.encode(p));
    const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      joined.set(p, o);
      o += p.length;
    }
    return joined;
  };
}

function cobsDecode(body: Uint8Array): Uint8Array | undefined {
  const out: number[] = [];
  let i = 0;
  while (i < body.length) {
    const code = body[i++];
    if (code === 0 || i + code - 1 > body.length) return undefined;
    for (let k = 1; k < code; k++) out.push(body[i++]);
    if (code !== 0xff && i < body.length) out.push(0);
  }
  return out.length > 4 ? Uint8Array.from(out.slice(0, -4)) : undefined;
}

export const CHECKS: ConformanceCheck[] = [
  {
    id: 'hello.required-first',
    title: 'requests before hello are refused with NOT_READY',
    level: 'must',
    async run(ctx) {
      const raw = ctx.raw();
      let id = raw.id();
      let m = await raw.request({ id, op: 'slotStatus' }, 1500 * ctx.scale);
      if (m?.kind === 'result') {
        // Still ready from an earlier connection: reset it, then try again.
        await ready(raw, ctx);
        const rid = raw.id();
        expectResult(await raw.request({ id: rid, op: 'deviceReset' }, 10_000 * ctx.scale), 'deviceReset');
        await new Promise((r) => setTimeout(r, 200));
        id = raw.id();
        m = await raw.request({ id, op: 'slotStatus' }, 1500 * ctx.scale);
      }
      return expectError(m, 'NOT_READY', id);
    },
  },
  {
    id: 'hello.negotiate',
    title: 'hello answers with a valid device description',
    level: 'must',
    async run(ctx) {
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
    },
  },
  {
    id: 'hello.version-choice',
    title: 'hello picks version 1 from a list that also names unknown versions',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      const m = await hello(raw, ctx, [9, 1]);
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
      const raw = ctx.raw();
      const id = raw.id();
      return expectError(await raw.request({ id, op: 'hello', versions: [200], maxFrame: 4096 }, 2000 * ctx.scale), 'UNSUPPORTED_VERSION', id);
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
      const small = raw.id();
      expectError(await raw.request({ id: small, op: 'hello', versions: [1], maxFrame: 100 }, 2000 * ctx.scale), 'BAD_REQUEST', small);
      for (const maxFrame of [1_000_000, 0xffff_ffff]) {
        const m = await hello(raw, ctx, [1], maxFrame);
        expectResult(m, `hello with maxFrame ${maxFrame}`);
        if (!(await pingAnswered(raw, ctx))) throw new CheckFailed(`ping after hello with maxFrame ${maxFrame} not answered`);
      }
      return 'maxFrame 100 → BAD_REQUEST; 1,000,000 and 2^32−1 accepted';
    },
  },
  {
    id: 'messages.error-order',
    title: 'decode errors (UNKNOWN_OPERATION, BAD_REQUEST) come before state errors (NOT_READY, SECURE_CHANNEL_REQUIRED)',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      const raw = ctx.raw();
      // A failed hello leaves the device NOT_READY (4).
      const failed = raw.id();
      expectError(await raw.request({ id: failed, op: 'hello', versions: [200], maxFrame: 4096 }, 2000 * ctx.scale), 'UNSUPPORTED_VERSION', failed);
      const seen: string[] = [];
      const ask = async (map: Record<string, unknown>, name: string) => {
        const id = raw.id();
        seen.push(`${String(map.op)} → ${expectError(await raw.request({ id, ...map }, 1500 * ctx.scale), name, id)}`);
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
    },
  },
  {
    id: 'messages.unknown-operation',
    title: 'an unknown operation is refused with UNKNOWN_OPERATION and the same id',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      await ready(raw, ctx);
      const id = raw.id();
      return expectError(await raw.request({ id, op: 'conformanceNoSuchOp' }, 1500 * ctx.scale), 'UNKNOWN_OPERATION', id);
    },
  },
  {
    id: 'messages.bad-field',
    title: 'a wrongly typed field is refused with BAD_REQUEST and the same id',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      await ready(raw, ctx);
      const id = raw.id();
      return expectError(await raw.request({ id, op: 'powerOn', slot: 'one' }, 1500 * ctx.scale), 'BAD_REQUEST', id);
    },
  },
  {
    id: 'messages.unknown-keys',
    title: 'unknown keys in a request are ignored',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      await ready(raw, ctx);
      const id = raw.id();
      expectResult(await raw.request({ id, op: 'ping', futureField: { nested: [1, 2] }, note: 'x' }, 1500 * ctx.scale), 'ping with extra keys');
    },
  },
  {
    id: 'messages.not-a-map',
    title: 'a frame that is not a msgpack map does not break the device (id 0 BAD_REQUEST recommended)',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      await ready(raw, ctx);
      raw.writePayload(Uint8Array.of(0x93, 0x01, 0x02, 0x03)); // [1, 2, 3]
      raw.writePayload(Uint8Array.of(0xa3, 0x61, 0x62, 0x63)); // "abc"
      if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping not answered afterwards');
      const reported = raw.received.filter((m) => m.kind === 'error' && m.id === 0 && m.name === 'BAD_REQUEST').length;
      return `${reported}/2 reported as id 0 BAD_REQUEST`;
    },
  },
  {
    id: 'frames.empty',
    title: 'empty frames (consecutive 0x00) are ignored',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      raw.writeBytes(new Uint8Array(8));
      await ready(raw, ctx);
      if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping not answered');
    },
  },
  {
    id: 'frames.garbage-resync',
    title: 'garbage on the line is skipped; the next frame is answered',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      await ready(raw, ctx);
      const garbage = Uint8Array.from({ length: 300 }, (_, i) => (i * 73 + 11) & 0xff || 0x5a);
      raw.writeBytes(garbage); // no delimiter: the next frame's first bytes complete a bad frame…
      raw.writeBytes(Uint8Array.of(0x00)); // …so end it like a line glitch would, then send a real frame
      if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping after garbage not answered');
    },
  },
  {
    id: 'frames.bad-crc',
    title: 'a frame with a bad CRC is dropped silently; the next frame is answered',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      await ready(raw, ctx);
      const id = raw.id();
      const frame = raw.encoder.encode(packMap({ id, op: 'ping' }));
      frame[frame.length - 2] ^= 0x01; // last CRC byte
      raw.writeBytes(frame);
      if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping after a bad CRC not answered');
      if (raw.received.some((m) => m.kind !== 'event' && m.id === id)) throw new CheckFailed('the corrupted request was executed');
    },
  },
  {
    id: 'frames.truncated',
    title: 'a truncated frame is dropped; the next frame is answered',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      await ready(raw, ctx);
      const id = raw.id();
      const frame = raw.encoder.encode(packMap({ id, op: 'slotStatus' }));
      raw.writeBytes(frame.subarray(0, frame.length >> 1));
      raw.writeBytes(Uint8Array.of(0x00));
      if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping after a truncated frame not answered');
      if (raw.received.some((m) => m.kind !== 'event' && m.id === id)) throw new CheckFailed('the truncated request was executed');
    },
  },
  {
    id: 'frames.oversize',
    title: 'a frame larger than maxFrame is discarded without losing sync',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      const raw = ctx.raw();
      await ready(raw, ctx);
      const size = Math.min(h.maxFrame + 64, MAX_MAX_FRAME);
      if (size <= h.maxFrame) throw new CheckSkipped('maxFrame is the protocol maximum');
      const id = raw.id();
      raw.writePayload(packMap({ id, op: 'ping', pad: new Uint8Array(size - 32) }));
      const wait = (2000 + size / 5) * ctx.scale;
      await new Promise((r) => setTimeout(r, Math.min(wait, 200)));
      const pid = raw.id();
      const m = await raw.request({ id: pid, op: 'ping' }, wait);
      if (!m || m.kind !== 'result') throw new CheckFailed('ping after an oversize frame not answered');
      const reported = raw.received.some((x) => x.kind === 'error' && x.id === 0 && x.name === 'FRAME_TOO_LARGE');
      return reported ? 'reported as id 0 FRAME_TOO_LARGE' : 'discarded silently';
    },
  },
  {
    id: 'frames.max-size',
    title: 'a request of exactly maxFrame bytes is accepted',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      const raw = ctx.raw();
      await ready(raw, ctx);
      const id = raw.id();
      let pad = h.maxFrame - 40;
      let payload = packMap({ id, op: 'ping', pad: new Uint8Array(pad) });
      pad += h.maxFrame - payload.length;
      payload = packMap({ id, op: 'ping', pad: new Uint8Array(pad) });
      if (payload.length !== h.maxFrame) throw new CheckUnexercised(`cannot build a ${h.maxFrame}-byte ping`);
      raw.writePayload(payload);
      const m = await raw.waitFor(id, (2000 + h.maxFrame / 5) * ctx.scale);
      expectResult(m, `a ${h.maxFrame}-byte ping`);
      return `${h.maxFrame} bytes`;
    },
  },
  {
    id: 'frames.oversize-decoded',
    title: 'oversize is decided on the decoded payload: maxFrame bytes of the longest encoding are accepted, maxFrame + 1 of the shortest are dropped',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      if (h.maxFrame >= MAX_MAX_FRAME) throw new CheckSkipped('maxFrame is the protocol maximum');
      const raw = ctx.raw();
      await ready(raw, ctx);
      const build = (id: number, size: number, fill: number) => {
        let pad = size - 40;
        let p = packMap({ id, op: 'ping', pad: new Uint8Array(pad).fill(fill) });
        pad += size - p.length;
        p = packMap({ id, op: 'ping', pad: new Uint8Array(pad).fill(fill) });
        if (p.length !== size) throw new CheckUnexercised(`cannot build a ${size}-byte ping`);
        return p;
      };
      // No zero bytes in the pad: COBS adds its most (1 per 254 bytes), yet the payload is exactly maxFrame.
      const longId = raw.id();
      const longest = build(longId, h.maxFrame, 0x55);
      raw.writePayload(longest);
      expectResult(await raw.waitFor(longId, (2000 + h.maxFrame / 5) * ctx.scale), `a ${h.maxFrame}-byte ping with no zero bytes`);
      // All zeros: COBS adds its least, the frame on the line is short, but the payload is maxFrame + 1.
      const shortId = raw.id();
      raw.writePayload(build(shortId, h.maxFrame + 1, 0x00));
      if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping after a (maxFrame + 1)-byte payload not answered');
      const m = raw.received.find((x) => (x.kind === 'result' || x.kind === 'error') && x.id === shortId);
      if (m) throw new CheckFailed(`a payload of maxFrame + 1 bytes (short encoding) was answered (${m.kind === 'error' ? m.name : 'result'}): oversize must be decided on the decoded length`);
      return `${h.maxFrame} bytes (encoded ${raw.encoder.encode(longest).length}) accepted; ${h.maxFrame + 1} zero-padded bytes dropped`;
    },
  },
  {
    id: 'keepalive.ping-latency',
    title: 'ping is answered well within the 1000 ms keepalive timeout',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      const raw = ctx.raw();
      await ready(raw, ctx);
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        if (!(await pingAnswered(raw, ctx))) throw new CheckFailed(`ping ${i + 1} not answered`);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const median = times[3];
      if (times[6] > 1000) throw new CheckFailed(`slowest ping ${times[6].toFixed(1)} ms`);
      return `median ${median.toFixed(2)} ms, max ${times[6].toFixed(2)} ms`;
    },
  },
  {
    id: 'keepalive.idle-session',
    title: 'an idle session stays alive on keepalive pings',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      plaintextOpsPossible(ctx);
      const s = await ctx.session({ keepaliveMs: 100, pingTimeoutMs: 1000 * ctx.scale });
      await new Promise((r) => setTimeout(r, 700));
      if (s.closed) throw new CheckFailed(`session closed: ${s.closeReason?.code}`);
      if (s.counters.pings < 2) throw new CheckFailed(`only ${s.counters.pings} keepalive pings went out`);
      return `${s.counters.pings} pings in 0.7 s`;
    },
  },
  {
    id: 'ops.slot-status',
    title: 'slotStatus lists every slot of hello with a valid state',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      plaintextOpsPossible(ctx);
      const s = await ctx.session();
      const all = await s.slotStatus();
      for (const slot of h.slots) if (!all.some((x) => x.slot === slot.id)) throw new CheckFailed(`slot ${slot.id} missing`);
      const one = await s.slotStatus(h.slots[0].id);
      if (one.length !== 1 || one[0].slot !== h.slots[0].id) throw new CheckFailed('slotStatus(slot) did not answer that one slot');
      ctx.slots = all;
      return all.map((x) => `0x${x.slot.toString(16).padStart(2, '0')}:${x.card}`).join(' ');
    },
  },
  {
    id: 'ops.bad-slot',
    title: 'a slot not listed in hello is refused with BAD_SLOT',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      plaintextOpsPossible(ctx);
      const s = await ctx.session();
      try {
        await s.powerOn(unusedSlot(h));
      } catch (e) {
        if (e instanceof DeviceError && e.code === 'BAD_SLOT') return 'BAD_SLOT (10)';
        throw new CheckFailed(`got ${(e as { code?: string }).code ?? e}`);
      }
      throw new CheckFailed('powerOn of a missing slot succeeded');
    },
  },
  {
    id: 'ops.no-card',
    title: 'powerOn of an empty slot is refused with NO_CARD',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      plaintextOpsPossible(ctx);
      const slot = slotWith(ctx, 'absent');
      if (slot === undefined) throw new CheckUnexercised('no empty slot (remove a card to test)');
      const s = await ctx.session();
      try {
        await s.powerOn(slot);
      } catch (e) {
        if (e instanceof DeviceError && e.code === 'NO_CARD') return `slot 0x${slot.toString(16)}`;
        throw new CheckFailed(`got ${(e as { code?: string }).code ?? e}`);
      }
      throw new CheckFailed('powerOn of an empty slot succeeded');
    },
  },
  {
    id: 'ops.power',
    title: 'powerOn → ATR, slotStatus shows it powered, resetCard → ATR, powerOff',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      plaintextOpsPossible(ctx);
      const slot = slotWith(ctx, 'present');
      if (slot === undefined) throw new CheckUnexercised('no card in any slot (insert one to test)');
      const s = await ctx.session();
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
    },
  },
  {
    id: 'ops.atr-protocol',
    title: 'the protocol of powerOn and resetCard is one the ATR offers (T=0 when the ATR has no TD1)',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      plaintextOpsPossible(ctx);
      const slot = slotWith(ctx, 'present');
      if (slot === undefined) throw new CheckUnexercised('no card in any slot');
      const s = await ctx.session();
      const hex = (a: Uint8Array) => Buffer.from(a).toString('hex').toUpperCase();
      try {
        const on = await s.powerOn(slot);
        const offered = atrProtocols(on.atr);
        if (!offered.has(on.protocol)) throw new CheckFailed(`ATR ${hex(on.atr)} offers T=${[...offered].join('/T=')}, powerOn answered T=${on.protocol}`);
        const reset = await s.resetCard(slot);
        const again = atrProtocols(reset.atr);
        if (!again.has(reset.protocol)) throw new CheckFailed(`ATR ${hex(reset.atr)} offers T=${[...again].join('/T=')}, resetCard answered T=${reset.protocol}`);
        return `ATR ${hex(on.atr)}: offers T=${[...offered].join('/T=')}, T=${on.protocol} in use`;
      } finally {
        await s.powerOff(slot).catch(() => undefined);
      }
    },
  },
  {
    id: 'ops.not-powered',
    title: 'transmit to an unpowered card is refused with CARD_NOT_POWERED',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      plaintextOpsPossible(ctx);
      const slot = slotWith(ctx, 'present');
      if (slot === undefined) throw new CheckUnexercised('no card in any slot');
      const s = await ctx.session();
      await s.powerOff(slot);
      try {
        await s.transmit(slot, SELECT_MF);
      } catch (e) {
        if (e instanceof DeviceError && e.code === 'CARD_NOT_POWERED') return 'CARD_NOT_POWERED (12)';
        throw new CheckFailed(`got ${(e as { code?: string }).code ?? e}`);
      }
      throw new CheckFailed('transmit to an unpowered card succeeded');
    },
  },
  {
    id: 'ops.transmit',
    title: 'transmit returns the card response (data + SW1 SW2)',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      plaintextOpsPossible(ctx);
      const slot = slotWith(ctx, 'present');
      if (slot === undefined) throw new CheckUnexercised('no card in any slot');
      const s = await ctx.session();
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
      needHello(ctx);
      plaintextOpsPossible(ctx);
      const slot = slotWith(ctx, 'present');
      if (slot === undefined) throw new CheckUnexercised('no card in any slot');
      const s = await ctx.session();
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
    async run(ctx) {
      const h = needHello(ctx);
      plaintextOpsPossible(ctx);
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
      if (!offered) {
        // No TA1: the card runs 372/1 only, and a device must not claim a faster rate (6.1).
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
      if (on.fi !== undefined && (on.fi !== 372 || on.di !== 1) && (on.fi !== offered.fi || on.di !== offered.di)) {
        throw new CheckFailed(`powerOn reports Fi ${on.fi} Di ${on.di}: neither the default 372/1 nor TA1 ${offered.ta1.toString(16).toUpperCase()}`);
      }
      const p = await s.setParams(slot, { protocol: on.protocol, fi: offered.fi, di: offered.di });
      if (p.fi !== offered.fi || p.di !== offered.di) {
        throw new CheckFailed(`setParams to TA1 ${offered.ta1.toString(16).toUpperCase()} (Fi ${offered.fi} Di ${offered.di}) answered Fi ${p.fi} Di ${p.di}`);
      }
      const [st] = await s.slotStatus(slot);
      const notes: string[] = [];
      if (st?.fi === undefined) notes.push('slotStatus does not report the rate (optional)');
      else if (st.fi !== offered.fi || st.di !== offered.di) throw new CheckFailed(`slotStatus reports Fi ${st.fi} Di ${st.di} after PPS to Fi ${offered.fi} Di ${offered.di}`);
      const r = await s.transmit(slot, SELECT_MF);
      await s.powerOff(slot);
      if (r.length < 2) throw new CheckFailed('no status word after PPS');
      const clock = p.clockHz ?? st?.clockHz;
      const rate = clock ? `, ${Math.round((clock * offered.di) / offered.fi / 100) / 10} kbit/s at ${clock / 1e6} MHz` : ', no clockHz';
      return `slot ${slot}: TA1 ${offered.ta1.toString(16).toUpperCase()} → Fi ${p.fi} Di ${p.di}${rate}${notes.length ? `; ${notes.join('; ')}` : ''}`;
    },
  },
  {
    id: 'ops.batch',
    title: 'transmitBatch executes in order and stops at an unexpected status word',
    level: 'must',
    async run(ctx) {
      const h = needBatch(ctx);
      if (h.maxBatch < 3) throw new CheckSkipped(`maxBatch ${h.maxBatch} < 3`);
      const slot = slotWith(ctx, 'present');
      if (slot === undefined) throw new CheckUnexercised('no card in any slot');
      const s = await ctx.session();
      await s.powerOn(slot);
      const anySw = [{ sw: 0x0000, mask: 0x0000 }];
      const never = [{ sw: 0xffff, mask: 0xffff }];
      const r = await s.transmitBatch(slot, [{ apdu: SELECT_MF_NO_DATA, expect: anySw }, { apdu: SELECT_MF_NO_DATA, expect: never }, { apdu: SELECT_MF_NO_DATA }]);
      await s.powerOff(slot);
      if (r.responses.length !== 2 || r.stoppedAt !== 1) throw new CheckFailed(`${r.responses.length} responses, stoppedAt ${r.stoppedAt}`);
      return 'stopped at command 1 of 3';
    },
  },
  {
    id: 'ops.batch-t0-stop',
    title: 'transmitBatch stops at a 61xx answer of a T=0 card whatever expect says, keeping its data for GET RESPONSE',
    level: 'must',
    async run(ctx) {
      const h = needBatch(ctx);
      if (h.maxBatch < 2) throw new CheckSkipped(`maxBatch ${h.maxBatch} < 2`);
      const s = await ctx.session();
      const t0 = await t0Slot(s, h, ctx.slots ?? []);
      if (t0 === undefined) throw new CheckUnexercised('no card on T=0 (put a SAM or a T=0 card in a slot)');
      const label = `slot 0x${t0.toString(16).padStart(2, '0')}`;
      try {
        // SELECT MF with data in and the FCI out: a case-4 command, answered 61xx on T=0.
        const probe = await s.transmit(t0, SELECT_MF);
        if (probe.length !== 2 || probe[0] !== 0x61) throw new CheckUnexercised(`${label}: the T=0 card answers SELECT MF with ${hexSw(probe)}, not 61xx`);
        const fci = await s.transmit(t0, getResponse(probe[1]));
        const any = [{ sw: 0x0000, mask: 0x0000 }];
        const r = await s.transmitBatch(t0, [{ apdu: SELECT_MF, expect: any }, { apdu: SELECT_MF, expect: any }]);
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
    },
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
      try {
        await s.transmitBatch(slot, Array.from({ length: h.maxBatch + 1 }, () => ({ apdu: SELECT_MF })));
      } catch (e) {
        if (e instanceof DeviceError && e.code === 'BATCH_TOO_LONG') return `${h.maxBatch + 1} commands → BATCH_TOO_LONG`;
        throw new CheckFailed(`got ${(e as { code?: string }).code ?? e}`);
      }
      throw new CheckFailed('an oversize batch was executed');
    },
  },
  {
    id: 'ops.answer-fits',
    title: 'a batch whose worst-case answer cannot fit the negotiated maxFrame is refused with FRAME_TOO_LARGE before anything runs',
    level: 'must',
    async run(ctx) {
      const h = needBatch(ctx);
      if (h.maxBatch < 3) throw new CheckSkipped(`maxBatch ${h.maxBatch} < 3`);
      const slot = slotWith(ctx, 'present');
      if (slot === undefined) throw new CheckUnexercised('no card in any slot');
      // The host accepts only 512 bytes: three commands with Le = 00 may answer 3 × 258 bytes.
      const s = await ctx.session({ maxFrame: 512 });
      await s.powerOn(slot);
      const selectLe = Uint8Array.of(0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00, 0x00); // case 4, Ne 256; answers little
      const any = [{ sw: 0x0000, mask: 0x0000 }];
      try {
        const one = await s.transmitBatch(slot, [{ apdu: selectLe, expect: any }]);
        if (one.responses.length !== 1) throw new CheckFailed(`a batch of one command answered ${one.responses.length} responses`);
        try {
          // request(), not transmitBatch(): the host session would split a batch that cannot fit.
          const r = await s.request('transmitBatch', [slot, [selectLe, selectLe, selectLe].map((apdu) => ({ apdu, expect: any }))]);
          throw new CheckFailed(`executed (${r.responses.length} responses of ${r.responses.map((x) => x.length).join(', ')} bytes fit by luck): the worst case, 64 + 3 × 263 = 853 bytes, exceeds 512`);
        } catch (e) {
          if (e instanceof CheckFailed) throw e;
          if (e instanceof DeviceError && e.code === 'FRAME_TOO_LARGE') return 'worst case 327 bytes → executed; 853 bytes > 512 → FRAME_TOO_LARGE';
          throw new CheckFailed(`got ${(e as { code?: string }).code ?? e}`);
        }
      } finally {
        await s.powerOff(slot).catch(() => undefined);
      }
    },
  },
  {
    id: 'ops.pipelined',
    title: 'maxInFlight requests sent at once are all answered, in order, without BUSY',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      plaintextOpsPossible(ctx);
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
    async run(ctx) {
      needHello(ctx);
      plaintextOpsPossible(ctx);
      const slot = slotWith(ctx, 'present');
      if (slot === undefined) throw new CheckUnexercised('no card in any slot');
      const seen: DeviceToHostMessage[] = [];
      const s = await ctx.session({ observe: (m) => seen.push(m) });
      await s.powerOn(slot);
      const challenge = (a: Uint8Array) => Buffer.from(a).toString('hex').toUpperCase();
      const outcomes: string[] = [];
      const challenges: string[] = [];
      // The request goes out twice with one id, as a retransmission after a lost answer would: at
      // once (the repeat meets the request still held: a pending notice, or the answer again) and
      // after the answer came (the device must answer it again from its window).
      for (const repeat of ['at-once', 'after-answer'] as const) {
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
        const answers = () => seen.flatMap((m) => (m.kind === 'result' && m.id === id && m.fields.rapdu instanceof Uint8Array ? [challenge(m.fields.rapdu)] : []));
        const pending = () => seen.some((m) => m.kind === 'pending' && m.id === id);
        const done = () => answers().length >= 2 || (repeat === 'at-once' && pending());
        const deadline = performance.now() + 1000 * ctx.scale;
        while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        // A device that executed the repeat again would answer it about one execution later.
        await new Promise((r) => setTimeout(r, Math.max(100, 2 * took) * ctx.scale));
        const got = answers();
        if (got.length > 2) throw new CheckFailed(`${repeat}: request ${id} answered ${got.length} times`);
        if (got.length === 2 && got[0] !== got[1]) throw new CheckFailed(`${repeat}: the repeat was executed again: two challenges ${got[0]} and ${got[1]} for one id`);
        if (got.length < 2 && !(repeat === 'at-once' && pending())) {
          throw new CheckFailed(`${repeat}: the repeat got neither the answer again nor a pending notice (a host whose answer was lost would never get it)`);
        }
        outcomes.push(`${repeat}: ${got.length === 2 ? 'the same answer again' : 'pending notice, one answer'}`);
        challenges.push(got[0]);
      }
      const fresh = challenge(await s.transmit(slot, GET_CHALLENGE));
      await s.powerOff(slot);
      if (new Set([...challenges, fresh]).size < 3) throw new CheckUnexercised('the card gives the same challenge to new requests: a repeat cannot be told from a re-execution');
      return `${outcomes.join('; ')}; a new request gets a new challenge`;
    },
  },
  {
    id: 'ops.pending-notice',
    title: `a request held longer than ${PENDING_NOTICE_MS} ms gets a pending notice at least every ${PENDING_NOTICE_MS} ms until its answer`,
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      plaintextOpsPossible(ctx);
      if (h.diagnostics) return pendingWithDiagHold(ctx);
      if (!h.batch || h.maxBatch < 2) throw new CheckUnexercised('a long request needs transmitBatch or diagHold (diagnostics: true)');
      const slot = slotWith(ctx, 'present');
      if (slot === undefined) throw new CheckUnexercised('no card in any slot');
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
      const anySw = [{ sw: 0x0000, mask: 0x0000 }];
      const t0 = performance.now();
      const r = await s.transmitBatch(slot, Array.from({ length: h.maxBatch }, () => ({ apdu: GET_CHALLENGE, expect: anySw })));
      const t1 = performance.now();
      await s.powerOff(slot);
      const took = t1 - t0;
      if (took < 2 * PENDING_NOTICE_MS) {
        throw new CheckUnexercised(`${r.responses.length} GET CHALLENGE in one batch took ${took.toFixed(0)} ms: too quick to need pending notices (a slower card or line shows them)`);
      }
      const marks = [t0, ...notices.filter((t) => t > t0 && t < t1), t1];
      let longest = 0;
      for (let i = 1; i < marks.length; i++) longest = Math.max(longest, marks[i] - marks[i - 1]);
      const summary = `${marks.length - 2} pending notices during ${took.toFixed(0)} ms, longest silence ${longest.toFixed(0)} ms`;
      if (longest > 2 * PENDING_NOTICE_MS * ctx.scale) throw new CheckFailed(summary);
      return summary;
    },
  },
  {
    id: 'ops.device-info',
    title: 'deviceInfo returns uptime and counters',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      plaintextOpsPossible(ctx);
      const s = await ctx.session();
      const info = await s.deviceInfo();
      return `uptime ${Math.round(info.uptimeMs / 1000)} s, ${Object.keys(info.counters).length} counters`;
    },
  },
  {
    id: 'ops.device-reset',
    title: 'deviceReset answers, then the device needs and accepts a new hello',
    level: 'must',
    async run(ctx) {
      needHello(ctx);
      plaintextOpsPossible(ctx);
      const s = await ctx.session();
      const t = performance.now();
      await s.deviceReset();
      await s.ping();
      return `back in ${(performance.now() - t).toFixed(0)} ms`;
    },
  },
  {
    id: 'secure.required',
    title: 'a device that requires the secure channel refuses plaintext operations',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      if (h.secureChannel !== 'required') throw new CheckSkipped(`secure channel ${h.secureChannel}`);
      const raw = ctx.raw();
      await ready(raw, ctx);
      const id = raw.id();
      return expectError(await raw.request({ id, op: 'slotStatus' }, 1500 * ctx.scale), 'SECURE_CHANNEL_REQUIRED', id);
    },
  },
  {
    id: 'secure.handshake',
    title: 'the SM secure channel opens (certificate, SM2 key exchange, confirmations) and carries operations',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      if (h.secureChannel === 'none') throw new CheckSkipped('the device has no secure channel');
      if (!ctx.canSecure) throw new CheckUnexercised('give the vendor CA key (--ca-key, --ca-id) or --test-ca');
      const t = performance.now();
      const s = await ctx.session({ secure: 'required' });
      const ms = performance.now() - t;
      await s.slotStatus();
      await s.ping();
      const info = s.secureChannel;
      return `${info.suite}, device ${info.peer?.serial} (CA ${info.peer?.ca}), open in ${ms.toFixed(0)} ms`;
    },
  },
  {
    id: 'secure.tampered-record',
    title: 'a tampered record is rejected and the channel is torn down',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      if (h.secureChannel === 'none') throw new CheckSkipped('the device has no secure channel');
      if (!ctx.canSecure) throw new CheckUnexercised('no vendor CA key given');
      let armed = false;
      const s = await ctx.session({
        secure: 'required',
        timeouts: { slotStatus: 1500 * ctx.scale },
        tap: (p) => {
          if (!armed || p[0] !== RECORD_MARKER) return p;
          armed = false;
          const q = p.slice();
          q[q.length - 5] ^= 0x10;
          return q;
        },
      });
      await s.slotStatus();
      armed = true;
      const outcome = await s.slotStatus().then(
        () => 'executed',
        (e: { code?: string }) => e.code ?? 'error',
      );
      if (outcome === 'executed') throw new CheckFailed('the tampered request was executed');
      // Torn down: the device needs a new hello (a new session proves the device recovered).
      const again = await ctx.session({ secure: 'required' });
      await again.ping();
      return `tampered request → ${outcome}`;
    },
  },
  {
    id: 'secure.replayed-record',
    title: 'a replayed record is not executed twice',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      if (h.secureChannel === 'none') throw new CheckSkipped('the device has no secure channel');
      if (!ctx.canSecure) throw new CheckUnexercised('no vendor CA key given');
      let armed = false;
      const s = await ctx.session({
        secure: 'required',
        tap: (p) => {
          if (!armed || p[0] !== RECORD_MARKER) return p;
          armed = false;
          return [p, p];
        },
      });
      armed = true;
      await s.ping().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300 * ctx.scale));
      const c = s.counters;
      if (c.unexpectedResponses + c.lateResponses > 0 && !s.closed) throw new CheckFailed('the replayed request was answered again');
      return s.closed ? `channel torn down (${s.closeReason?.code})` : 'replay ignored';
    },
  },
  {
    id: 'secure.plaintext-inside',
    title: 'a plaintext request inside the open channel is not executed',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      if (h.secureChannel === 'none') throw new CheckSkipped('the device has no secure channel');
      if (!ctx.canSecure) throw new CheckUnexercised('no vendor CA key given');
      let inject: Uint8Array | undefined;
      const s = await ctx.session({
        secure: 'required',
        tap: (p) => {
          if (!inject || p[0] !== RECORD_MARKER) return p;
          const extra = inject;
          inject = undefined;
          return [extra, p];
        },
      });
      const raw = ctx.raw();
      const id = raw.id();
      inject = packMap({ id, op: 'slotStatus' });
      await s.ping().catch(() => undefined);
      const teardown = await raw.waitFor(0, 1000 * ctx.scale);
      const m = await raw.waitFor(id, 300 * ctx.scale);
      if (m && m.kind === 'result') throw new CheckFailed('the plaintext request was executed inside the channel');
      if (m) throw new CheckFailed(`the plaintext request got an answer of its own (${m.kind === 'error' ? m.name : m.kind}); the teardown's id-0 error must be the only one`);
      if (!teardown || teardown.kind !== 'error' || teardown.name !== 'SECURE_CHANNEL_FAILED') throw new CheckFailed('no id-0 SECURE_CHANNEL_FAILED: the channel was not torn down');
      return 'not executed, no answer of its own; id 0 SECURE_CHANNEL_FAILED';
    },
  },
  {
    id: 'secure.handshake-errors',
    title: 'handshake errors: unknown suite, invalid point, scFinish without scOpen, other requests during the handshake → SECURE_CHANNEL_FAILED; ping keeps it',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      if (h.secureChannel === 'none') {
        const raw = ctx.raw();
        await ready(raw, ctx);
        const id = raw.id();
        return expectError(await raw.request({ id, op: 'scOpen', suites: [1], hostKey: new Uint8Array(65), ephemeral: new Uint8Array(65) }, 1500 * ctx.scale), 'UNKNOWN_OPERATION', id);
      }
      const raw = ctx.raw();
      const hostKey = Sm2PrivateKey.generate();
      const seen: string[] = [];
      const ask = async (map: Record<string, unknown>, name: string, what: string) => {
        const id = raw.id();
        expectError(await raw.request({ id, ...map }, 2000 * ctx.scale), name, id);
        seen.push(what);
      };
      const open = async () => {
        const eph = Sm2PrivateKey.generate();
        const id = raw.id();
        const m = await raw.request({ id, op: 'scOpen', suites: [1], hostKey: hostKey.publicKey.toBytes(), ephemeral: eph.publicKey.toBytes() }, 5000 * ctx.scale);
        expectResult(m, 'scOpen');
        return { eph, fields: m!.kind === 'result' ? m!.fields : {} };
      };
      await ready(raw, ctx);
      const bad = new Uint8Array(65);
      bad[0] = 0x04;
      bad[32] = 1;
      bad[64] = 1; // (1, 1) is not on the curve
      await ask({ op: 'scOpen', suites: [99], hostKey: hostKey.publicKey.toBytes(), ephemeral: Sm2PrivateKey.generate().publicKey.toBytes() }, 'SECURE_CHANNEL_FAILED', 'suite 99');
      await ask({ op: 'scOpen', suites: [1], hostKey: hostKey.publicKey.toBytes(), ephemeral: bad }, 'SECURE_CHANNEL_FAILED', 'R_A off the curve');
      await ask({ op: 'scOpen', suites: [1], hostKey: bad, ephemeral: Sm2PrivateKey.generate().publicKey.toBytes() }, 'SECURE_CHANNEL_FAILED', 'P_A off the curve');
      await ask({ op: 'scFinish', confirm: new Uint8Array(32) }, 'SECURE_CHANNEL_FAILED', 'scFinish without scOpen');
      await open();
      await ask({ op: 'slotStatus' }, 'SECURE_CHANNEL_FAILED', 'slotStatus during the handshake');
      await ask({ op: 'scFinish', confirm: new Uint8Array(32) }, 'SECURE_CHANNEL_FAILED', 'scFinish after the handshake was abandoned');
      await open();
      await ask({ op: 'scOpen', suites: [1], hostKey: hostKey.publicKey.toBytes(), ephemeral: Sm2PrivateKey.generate().publicKey.toBytes() }, 'SECURE_CHANNEL_FAILED', 'a second scOpen');
      // A good handshake with a ping in the middle: the ping is answered and the handshake goes on.
      const { eph, fields } = await open();
      if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping during the handshake not answered');
      const cert = fields.cert as { tbs: Uint8Array; sig: Uint8Array };
      const deviceKey = Sm2PublicKey.fromBytes(parseCertificateBody(cert.tbs).publicKey);
      const kx = sm2KeyExchange({ role: 'initiator', self: { priv: hostKey }, peer: { pub: deviceKey }, selfEphemeral: { priv: eph }, peerEphemeralPub: fields.ephemeral as Uint8Array, keyLength: 32 });
      const fid = raw.id();
      const fin = await raw.request({ id: fid, op: 'scFinish', confirm: kx.confirmSelf }, 5000 * ctx.scale);
      expectResult(fin, 'scFinish after a ping during the handshake');
      seen.push('ping kept the handshake');
      return seen.join('; ');
    },
  },
  {
    id: 'secure.record-without-channel',
    title: 'a record while no channel is open is not executed and answered with id 0 SECURE_CHANNEL_FAILED',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      if (h.secureChannel === 'none') throw new CheckSkipped('the device has no secure channel');
      const raw = ctx.raw();
      await ready(raw, ctx);
      sendRawRecord(raw);
      const m = await raw.waitFor(0, 1500 * ctx.scale);
      if (!m || m.kind !== 'error' || m.name !== 'SECURE_CHANNEL_FAILED') throw new CheckFailed(`a record in READY got ${m ? (m.kind === 'error' ? m.name : m.kind) : 'no answer'}, not id 0 SECURE_CHANNEL_FAILED`);
      if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping afterwards not answered (the state must not change)');
      return 'id 0 SECURE_CHANNEL_FAILED; still READY';
    },
  },
  {
    id: 'secure.record-seq',
    title: 'the first record may carry seq 0 … 1023 (the last accepted seq starts at −1); a jump of more than 1024 tears the channel down',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      if (h.secureChannel === 'none') throw new CheckSkipped('the device has no secure channel');
      if (!ctx.canSecure) throw new CheckUnexercised('no vendor CA key given');
      const s = await ctx.session({ secure: 'required', timeouts: { ping: 1500 * ctx.scale } });
      const first = s.skipRecordSeq(0) === 0 ? s.skipRecordSeq(1023) : s.skipRecordSeq(1023);
      await s.ping().catch((e: { code?: string }) => {
        throw new CheckFailed(`the first record with seq ${first} was refused (${e.code ?? e})`);
      });
      const far = s.skipRecordSeq(1024);
      const outcome = await s.ping().then(
        () => 'answered',
        (e: { code?: string }) => e.code ?? 'error',
      );
      if (outcome === 'answered') throw new CheckFailed(`a record ${far - first} seqs ahead (more than 1024) was accepted`);
      return `first record seq ${first} accepted; seq ${far} (+${far - first}) → ${outcome}`;
    },
  },
  {
    id: 'secure.rekey',
    title: 'records from seq 65,536 on use the keys ratcheted ⌊seq/65536⌋ times',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      if (h.secureChannel === 'none') throw new CheckSkipped('the device has no secure channel');
      if (!ctx.canSecure) throw new CheckUnexercised('no vendor CA key given');
      const s = await ctx.session({ secure: 'required', timeouts: { ping: 1500 * ctx.scale } });
      let seq = 0;
      // Hop 1024 seqs per ping (the largest accepted gap) up to and over the 65,536 boundary.
      while (seq < 65_536 + 2048) {
        seq = s.skipRecordSeq(1023);
        await s.ping().catch((e: { code?: string }) => {
          throw new CheckFailed(`a record with seq ${seq} (epoch ${Math.floor(seq / 65_536)}) was refused (${e.code ?? e})`);
        });
      }
      await s.slotStatus();
      return `records up to seq ${seq + 1} accepted across the 65,536 boundary`;
    },
  },
  {
    id: 'messages.all-valid',
    title: 'every message the device sent during the run was valid',
    level: 'must',
    async run(ctx) {
      if (ctx.badMessages > 0) throw new CheckFailed(`${ctx.badMessages} malformed messages`);
    },
  },
];
