// Rewriting what a host session sends, for the checks that must send what a good host never does (a
// tampered, replayed or injected record). The tap works on payloads: the frames the session writes
// are decoded by the protocol's own FrameDecoder (COBS and CRC) and what the tap returns is framed
// again by its FrameEncoder, so the suite has no framing code of its own.
import { FrameDecoder, FrameEncoder, MAX_MAX_FRAME } from '../../protocol/framing.ts';
import type { WriteTap } from './link-lease.ts';

/** Rewrites one outgoing frame payload (host → device) of a session; return it unchanged to pass it. */
export type PayloadTap = (payload: Uint8Array) => Uint8Array | Uint8Array[] | null;

/** A LinkLease write tap that shows every payload the session writes to `tap`. */
export function frameTap(tap: PayloadTap): WriteTap {
  const decoder = new FrameDecoder(MAX_MAX_FRAME);
  const encoder = new FrameEncoder(MAX_MAX_FRAME);
  return (bytes) => {
    // HostSession writes whole frames, so the decoder holds nothing between writes.
    const frames: Uint8Array[] = [];
    let changed = false;
    for (const payload of decoder.push(bytes)) {
      const out = tap(payload);
      if (out !== payload) changed = true;
      if (out !== null) for (const p of Array.isArray(out) ? out : [out]) frames.push(encoder.encode(p));
    }
    if (!changed) return bytes;
    return frames.length ? Buffer.concat(frames) : null;
  };
}
