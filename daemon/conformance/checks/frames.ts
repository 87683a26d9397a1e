// Frames (PROTOCOL.md 2): empty, garbled, corrupted, truncated and oversize frames must not cost the
// device its sync; a frame of exactly maxFrame bytes must pass. Frames are built with the protocol's
// own FrameEncoder (RawClient) and then broken on purpose.
import { MAX_MAX_FRAME } from '../../../protocol/framing.ts';
import { packMap } from '../../../protocol/messages.ts';
import { CheckFailed, CheckSkipped, CheckUnexercised, expectResult, needHello, pingAnswered, ready, readyRaw, sleep, type CheckContext, type ConformanceCheck } from './check-kit.ts';

/** A ping whose msgpack payload is exactly `size` bytes, padded with `fill`. */
function pingOfSize(id: number, size: number, fill = 0): Uint8Array {
  let pad = size - 40;
  let payload = packMap({ id, op: 'ping', pad: new Uint8Array(pad).fill(fill) });
  pad += size - payload.length;
  payload = packMap({ id, op: 'ping', pad: new Uint8Array(pad).fill(fill) });
  if (payload.length !== size) throw new CheckUnexercised(`cannot build a ${size}-byte ping`);
  return payload;
}

/**
 * Sends a request whose frame `breakFrame` damaged, then a ping: the ping must be answered and the
 * damaged request must not be. `after` and `damaged` name the damage in the failure messages.
 */
async function damagedFrameDropped(ctx: CheckContext, op: string, breakFrame: (frame: Uint8Array) => Uint8Array[], after: string, damaged: string): Promise<void> {
  const raw = await readyRaw(ctx);
  const id = raw.id();
  for (const bytes of breakFrame(raw.encoder.encode(packMap({ id, op })))) raw.writeBytes(bytes);
  if (!(await pingAnswered(raw, ctx))) throw new CheckFailed(`ping after ${after} not answered`);
  if (raw.received.some((m) => m.kind !== 'event' && m.id === id)) throw new CheckFailed(`the ${damaged} request was executed`);
}

async function oversize(ctx: CheckContext): Promise<string> {
  const h = needHello(ctx);
  const raw = await readyRaw(ctx);
  const size = Math.min(h.maxFrame + 64, MAX_MAX_FRAME);
  if (size <= h.maxFrame) throw new CheckSkipped('maxFrame is the protocol maximum');
  const id = raw.id();
  raw.writePayload(packMap({ id, op: 'ping', pad: new Uint8Array(size - 32) }));
  const wait = (2000 + size / 5) * ctx.scale;
  await sleep(Math.min(wait, 200));
  const pid = raw.id();
  const m = await raw.request({ id: pid, op: 'ping' }, wait);
  if (!m || m.kind !== 'result') throw new CheckFailed('ping after an oversize frame not answered');
  const reported = raw.received.some((x) => x.kind === 'error' && x.id === 0 && x.name === 'FRAME_TOO_LARGE');
  return reported ? 'reported as id 0 FRAME_TOO_LARGE' : 'discarded silently';
}

async function oversizeDecoded(ctx: CheckContext): Promise<string> {
  const h = needHello(ctx);
  if (h.maxFrame >= MAX_MAX_FRAME) throw new CheckSkipped('maxFrame is the protocol maximum');
  const raw = ctx.raw();
  await ready(raw, ctx);
  // No zero bytes in the pad: COBS adds its most (1 per 254 bytes), yet the payload is exactly maxFrame.
  const longId = raw.id();
  const longest = pingOfSize(longId, h.maxFrame, 0x55);
  raw.writePayload(longest);
  expectResult(await raw.waitFor(longId, (2000 + h.maxFrame / 5) * ctx.scale), `a ${h.maxFrame}-byte ping with no zero bytes`);
  // All zeros: COBS adds its least, the frame on the line is short, but the payload is maxFrame + 1.
  const shortId = raw.id();
  raw.writePayload(pingOfSize(shortId, h.maxFrame + 1, 0x00));
  if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping after a (maxFrame + 1)-byte payload not answered');
  const m = raw.received.find((x) => (x.kind === 'result' || x.kind === 'error') && x.id === shortId);
  if (m) throw new CheckFailed(`a payload of maxFrame + 1 bytes (short encoding) was answered (${m.kind === 'error' ? m.name : 'result'}): oversize must be decided on the decoded length`);
  return `${h.maxFrame} bytes (encoded ${raw.encoder.encode(longest).length}) accepted; ${h.maxFrame + 1} zero-padded bytes dropped`;
}

export const FRAME_CHECKS: ConformanceCheck[] = [
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
      const raw = await readyRaw(ctx);
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
      const flipCrc = (frame: Uint8Array) => {
        frame[frame.length - 2] ^= 0x01; // last CRC byte
        return [frame];
      };
      await damagedFrameDropped(ctx, 'ping', flipCrc, 'a bad CRC', 'corrupted');
    },
  },
  {
    id: 'frames.truncated',
    title: 'a truncated frame is dropped; the next frame is answered',
    level: 'must',
    async run(ctx) {
      const cut = (frame: Uint8Array) => [frame.subarray(0, frame.length >> 1), Uint8Array.of(0x00)];
      await damagedFrameDropped(ctx, 'slotStatus', cut, 'a truncated frame', 'truncated');
    },
  },
  {
    id: 'frames.oversize',
    title: 'a frame larger than maxFrame is discarded without losing sync',
    level: 'must',
    run: oversize,
  },
  {
    id: 'frames.max-size',
    title: 'a request of exactly maxFrame bytes is accepted',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      const raw = await readyRaw(ctx);
      const id = raw.id();
      raw.writePayload(pingOfSize(id, h.maxFrame));
      expectResult(await raw.waitFor(id, (2000 + h.maxFrame / 5) * ctx.scale), `a ${h.maxFrame}-byte ping`);
      return `${h.maxFrame} bytes`;
    },
  },
  {
    id: 'frames.oversize-decoded',
    title: 'oversize is decided on the decoded payload: maxFrame bytes of the longest encoding are accepted, maxFrame + 1 of the shortest are dropped',
    level: 'must',
    run: oversizeDecoded,
  },
];
