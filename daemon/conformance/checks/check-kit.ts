// What every area of the conformance suite shares: the shape of a check, the three ways a check ends
// other than a pass, and the moves most checks make (a raw exchange after hello, a request that must
// be refused with one error code, the card or feature a check needs before it can run).
import { hexUpper } from '../../../common/hex.ts';
import { DeviceError } from '../../../protocol/device-error.ts';
import type { HostSession, HostSessionOptions } from '../../../protocol/host-session.ts';
import type { DeviceToHostMessage, WireMap } from '../../../protocol/messages.ts';
import type { DeviceErrorName, DeviceHello, SlotStatus } from '../../../protocol/operations.ts';
import type { CheckLevel } from '../conformance-report.ts';
import type { RawClient } from '../raw-client.ts';
import type { PayloadTap } from '../session-tap.ts';

/** The check does not apply: the device does not announce the feature. */
export class CheckSkipped extends Error {}
/** The check applies but this run could not drive it (no card, no CA key …): never a pass. */
export class CheckUnexercised extends Error {}
export class CheckFailed extends Error {}

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

export const SELECT_MF = Uint8Array.from([0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00]);
/** GET CHALLENGE, 8 bytes: a different answer every time it is executed (not idempotent). */
export const GET_CHALLENGE = Uint8Array.from([0x00, 0x84, 0x00, 0x00, 0x08]);
/** A batch expectation every status word meets. */
export const ANY_SW = [{ sw: 0x0000, mask: 0x0000 }];

// ---- answers ----

export function expectError(m: DeviceToHostMessage | undefined, name: string, id: number): string {
  if (!m) throw new CheckFailed(`no answer to request ${id} (expected error ${name})`);
  if (m.kind === 'event' || m.kind === 'pending') throw new CheckFailed(`a ${m.kind} message instead of an answer`);
  if (m.kind === 'result') throw new CheckFailed(`a result instead of error ${name}`);
  if (m.name !== name) throw new CheckFailed(`error ${m.name ?? m.wire} instead of ${name}`);
  return `${name} (${m.wire})`;
}

export function expectResult(m: DeviceToHostMessage | undefined, what: string): void {
  if (!m) throw new CheckFailed(`no answer to ${what}`);
  if (m.kind === 'event' || m.kind === 'pending') throw new CheckFailed(`a ${m.kind} message instead of an answer to ${what}`);
  if (m.kind === 'error') throw new CheckFailed(`${what} failed with ${m.name ?? m.wire}`);
}

/** Sends `map` raw with a new id and expects the device to refuse it with error `name`; returns `NAME (wire)`. */
export async function requestError(raw: RawClient, ctx: CheckContext, map: WireMap, name: string, waitMs = 1500): Promise<string> {
  const id = raw.id();
  return expectError(await raw.request({ id, ...map }, waitMs * ctx.scale), name, id);
}

/**
 * Runs a host-session operation that the device must refuse with the device error `code`, and
 * returns that error. Another error, or a success (described by `succeeded`), fails the check.
 */
export async function expectDeviceError<T>(operation: () => Promise<T>, code: DeviceErrorName, succeeded: string | ((result: T) => string)): Promise<DeviceError> {
  let result: T;
  try {
    result = await operation();
  } catch (e) {
    if (e instanceof DeviceError && e.code === code) return e;
    throw new CheckFailed(`got ${(e as { code?: string }).code ?? e}`);
  }
  throw new CheckFailed(typeof succeeded === 'string' ? succeeded : succeeded(result));
}

/** How a session operation ended: `okWord` when it was answered, else the error code. */
export function outcomeOf(operation: Promise<unknown>, okWord: string): Promise<string> {
  return operation.then(
    () => okWord,
    (e: { code?: string }) => e.code ?? 'error',
  );
}

// ---- raw exchanges ----

export async function hello(raw: RawClient, ctx: CheckContext, versions = [1], maxFrame = 4096): Promise<DeviceToHostMessage | undefined> {
  const id = raw.id();
  return raw.request({ id, op: 'hello', versions, maxFrame }, 2000 * ctx.scale);
}

/** A probe: ping answered (after hello) proves the device is in sync. */
export async function pingAnswered(raw: RawClient, ctx: CheckContext): Promise<boolean> {
  const id = raw.id();
  const m = await raw.request({ id, op: 'ping' }, 1500 * ctx.scale);
  return m !== undefined && m.kind === 'result';
}

export async function ready(raw: RawClient, ctx: CheckContext): Promise<void> {
  const m = await hello(raw, ctx);
  expectResult(m, 'hello');
}

/** Raw access to a device that said hello to this run, after a hello of its own. */
export async function readyRaw(ctx: CheckContext): Promise<RawClient> {
  needHello(ctx);
  const raw = ctx.raw();
  await ready(raw, ctx);
  return raw;
}

// ---- what a check needs ----

export function needHello(ctx: CheckContext): DeviceHello {
  if (!ctx.hello) throw new CheckUnexercised('hello failed');
  return ctx.hello;
}

/** The hello of a device whose plaintext operations this run can reach (else the check is not exercised). */
export function needPlaintextOps(ctx: CheckContext): DeviceHello {
  const h = needHello(ctx);
  if (h.secureChannel === 'required' && !ctx.canSecure) throw new CheckUnexercised('the device requires the secure channel: give its vendor CA key');
  return h;
}

/** The hello of a device that batches and whose operations this run can reach (else the check is skipped). */
export function needBatch(ctx: CheckContext): DeviceHello {
  const h = needPlaintextOps(ctx);
  if (!h.batch) throw new CheckSkipped('the device does not announce batch');
  return h;
}

/** The hello of a device with a secure channel (else the check does not apply). */
export function needSecureChannel(ctx: CheckContext): DeviceHello {
  const h = needHello(ctx);
  if (h.secureChannel === 'none') throw new CheckSkipped('the device has no secure channel');
  return h;
}

/** A device with a secure channel that this run can open (a trusted vendor CA was given). */
export function needChannelOpen(ctx: CheckContext, hint = 'no vendor CA key given'): DeviceHello {
  const h = needSecureChannel(ctx);
  if (!ctx.canSecure) throw new CheckUnexercised(hint);
  return h;
}

export function slotWith(ctx: CheckContext, card: 'present' | 'absent'): number | undefined {
  const contact = ctx.hello?.slots.filter((s) => s.kind !== 'sam').map((s) => s.id) ?? [];
  const statuses = ctx.slots ?? [];
  const match = statuses.filter((s) => (card === 'absent' ? s.card === 'absent' : s.card !== 'absent' && s.card !== 'mute'));
  return (match.find((s) => contact.includes(s.slot)) ?? match[0])?.slot;
}

/** A slot with a card in it (contact slots first), or the check is not exercised. */
export function needCard(ctx: CheckContext, hint = 'no card in any slot'): number {
  const slot = slotWith(ctx, 'present');
  if (slot === undefined) throw new CheckUnexercised(hint);
  return slot;
}

// ---- formatting and timing ----

export function hexSw(r: Uint8Array): string {
  return r.length < 2 ? `${r.length}-byte answer` : hexUpper(r.subarray(r.length - 2));
}


/** The longest gap between t0, the given moments inside (t0, t1), and t1; and how many there were inside. */
export function longestSilence(t0: number, t1: number, moments: number[]): { inside: number; longest: number } {
  const marks = [t0, ...moments.filter((t) => t > t0 && t < t1), t1];
  let longest = 0;
  for (let i = 1; i < marks.length; i++) longest = Math.max(longest, marks[i] - marks[i - 1]);
  return { inside: marks.length - 2, longest };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
