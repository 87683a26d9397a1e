// The conformance suite's write tap: it sees the payloads a host session writes through the protocol's
// own framing (COBS + CRC), and frames again whatever it returns.
import { describe, expect, it } from 'vitest';
import { frameTap } from '../../../daemon/conformance/session-tap.ts';
import { FrameDecoder, FrameEncoder } from '../../../protocol/framing.ts';

const enc = new FrameEncoder();
const payloadsOf = (bytes: Uint8Array | null) => (bytes ? new FrameDecoder().push(bytes).map((p) => Buffer.from(p).toString('hex')) : null);
// Zero bytes and a 300-byte run exercise COBS' block boundaries.
const A = Uint8Array.of(0x81, 0xa2, 0x69, 0x64, 0x00, 0x00, 0x01);
const B = Uint8Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? 0 : i & 0xff));

describe('conformance frameTap', () => {
  it('passes a frame the tap leaves alone byte for byte, and shows the tap the exact payload', () => {
    const seen: string[] = [];
    const frame = enc.encode(B);
    const out = frameTap((p) => {
      seen.push(Buffer.from(p).toString('hex'));
      return p;
    })(frame);
    expect(out).toBe(frame);
    expect(seen).toEqual([Buffer.from(B).toString('hex')]);
  });

  it('frames a changed payload again, drops a frame on null, and sends several frames for a list', () => {
    expect(payloadsOf(frameTap(() => A)(enc.encode(B)))).toEqual([Buffer.from(A).toString('hex')]);
    expect(frameTap(() => null)(enc.encode(A))).toBeNull();
    expect(payloadsOf(frameTap((p) => [A, p])(enc.encode(B)))).toEqual([Buffer.from(A).toString('hex'), Buffer.from(B).toString('hex')]);
  });

  it('does not show the tap a frame whose CRC is wrong (the protocol decoder checks it), and passes it unchanged', () => {
    const bad = enc.encode(A).slice();
    bad[bad.length - 2] ^= 0x01;
    let calls = 0;
    const out = frameTap((p) => {
      calls++;
      return p;
    })(bad);
    expect(calls).toBe(0);
    expect(out).toBe(bad);
  });
});
