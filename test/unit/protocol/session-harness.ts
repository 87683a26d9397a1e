// Test harness: a host session and a device session (FakeReader) over an in-memory link pair, with
// a hook to see and rewrite every frame in flight.
import { DeviceSession, type DeviceSessionOptions } from '../../../protocol/device-session.ts';
import { FrameDecoder, FrameEncoder } from '../../../protocol/framing.ts';
import { HostSession, type HostSessionOptions } from '../../../protocol/host-session.ts';
import { createLinkPair, type ByteLink } from '../../../protocol/link.ts';
import { FakeReader } from './fake-reader.ts';

/** Rewrites one frame payload in flight: return the new payload, null to drop it, or an array to send several. */
export type FrameTap = (payload: Uint8Array, from: 'host' | 'device') => Uint8Array | null | Uint8Array[];

export interface Harness {
  host: HostSession;
  device: DeviceSession;
  reader: FakeReader;
  hostLink: ByteLink;
  deviceLink: ByteLink;
  setTap(tap: FrameTap | undefined): void;
}

export function linkWithTap(): { hostLink: ByteLink; deviceLink: ByteLink; setTap(tap: FrameTap | undefined): void } {
  let tap: FrameTap | undefined;
  const decoders = { a: new FrameDecoder(), b: new FrameDecoder() };
  const enc = new FrameEncoder();
  const [hostLink, deviceLink] = createLinkPair({
    intercept: (bytes, from) => {
      if (!tap) return bytes;
      const out: number[] = [];
      for (const p of decoders[from].push(bytes)) {
        const r = tap(p, from === 'a' ? 'host' : 'device');
        for (const q of r === null ? [] : Array.isArray(r) ? r : [r]) out.push(...enc.encode(q));
      }
      return Uint8Array.from(out);
    },
  });
  return { hostLink, deviceLink, setTap: (t) => (tap = t) };
}

export async function openHarness(hostOptions: HostSessionOptions = {}, deviceOptions: DeviceSessionOptions = {}, reader = new FakeReader()): Promise<Harness> {
  const { hostLink, deviceLink, setTap } = linkWithTap();
  const device = new DeviceSession(deviceLink, reader, deviceOptions);
  const host = await HostSession.open(hostLink, { keepaliveMs: 0, ...hostOptions });
  return { host, device, reader, hostLink, deviceLink, setTap };
}

export const SELECT_MF = Uint8Array.from([0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00]);
